"""Sizing: turn demand into the cheapest catalog type that holds it, with up to three ranked options.

Demand is absolute (busy vCPUs, GiB, busy GPUs, GPU GiB, Gbit/s): the demand percentage (the policy statistic
or the forecast peak, whichever is higher) times the current capacity, plus headroom. A candidate must hold every
dimension, be offered in the resource's region, be current generation, and keep the accelerator class (a CPU
instance never moves to a GPU type; in this version a GPU instance keeps its GPU model). All resources of a
region are matched against all candidate types at once with numpy broadcasting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from advisor.catalog import Catalog
from advisor.model import HOURS_PER_MONTH
from advisor.settings import Settings

Mode = Literal["down", "up", "modernize"]
RISK_STEPS = (60.0, 70.0, 80.0, 90.0)  # projected peak utilization on the target -> risk 0 (very low) .. 4
OPTION_LABELS = ("same family", "any family", "graviton")


@dataclass
class SizingResult:
    resource_id: str
    target: str | None
    target_hourly: float | None
    projected_utilization: dict[str, float] = field(default_factory=dict)
    risk: int | None = None
    options: list[dict] = field(default_factory=list)
    demand: dict[str, float] = field(default_factory=dict)  # absolute demand incl. headroom, per dimension
    note: str | None = None  # why there is no target


def risk_of(projected: dict[str, float]) -> int:
    """Compute-Optimizer-style performance risk 0-4 from the highest projected peak utilization."""
    peak = max((v for v in projected.values() if v is not None and np.isfinite(v)), default=0.0)
    return int(np.searchsorted(RISK_STEPS, peak, side="right"))


def demand_frame(features: pd.DataFrame, settings: Settings, mode: Mode) -> pd.DataFrame:
    """Absolute demand per resource, with and without headroom (columns need_*, base_*)."""
    f = features
    out = pd.DataFrame(index=f.index)
    out["base_vcpus"] = f["cpu_demand"] / 100 * f["vcpus"]
    out["need_vcpus"] = out["base_vcpus"] * (1 + settings.cpu.headroom)
    has_memory = f["memory_demand"].notna()
    out["base_memory"] = np.where(has_memory, f["memory_demand"] / 100 * f["memory_gib"], f["memory_gib"])
    out["need_memory"] = np.where(has_memory, out["base_memory"] * (1 + settings.memory.headroom), f["memory_gib"])
    has_gpu_data = f["gpu_demand"].notna() & (f["gpus"] > 0)
    out["base_gpus"] = np.where(has_gpu_data, f["gpu_demand"] / 100 * f["gpus"], f["gpus"])
    out["need_gpus"] = np.where(has_gpu_data, np.maximum(out["base_gpus"] * (1 + settings.gpu.headroom), 1.0)
                                * (f["gpus"] > 0), f["gpus"])
    has_gpu_mem = f["gpu_memory_demand"].notna() & (f["gpus"] > 0)
    out["base_gpu_memory"] = np.where(has_gpu_mem, f["gpu_memory_demand"] / 100 * f["gpu_memory_gib"],
                                      f["gpu_memory_gib"])
    out["need_gpu_memory"] = np.where(has_gpu_mem, out["base_gpu_memory"] * (1 + settings.gpu_memory.headroom),
                                      f["gpu_memory_gib"])
    network_bytes = f["network_demand"].fillna(0.0)
    out["base_network"] = network_bytes * 8 / 1e9
    out["need_network"] = out["base_network"] * (1 + settings.network.headroom)
    if mode == "modernize":
        # Same shape on a current-generation type: hold the current capacity; usage only drives the projection.
        for dim, column in (("vcpus", "vcpus"), ("memory", "memory_gib"), ("gpus", "gpus"),
                            ("gpu_memory", "gpu_memory_gib")):
            out[f"need_{dim}"] = f[column]
        out["need_network"] = 0.0
    out["base_vcpus"] = out["base_vcpus"].fillna(0.0)
    return out.fillna({"need_gpus": 0.0, "need_gpu_memory": 0.0, "base_gpus": 0.0, "base_gpu_memory": 0.0})


def size_resources(features: pd.DataFrame, catalog: Catalog, settings: Settings, mode: Mode,
                   max_options: int = 3) -> dict[str, SizingResult]:
    """Size every resource in ``features`` (EC2-like rows with specs and demand columns)."""
    demand = demand_frame(features, settings, mode)
    results: dict[str, SizingResult] = {}
    for region, rows in features.groupby("region", sort=False):
        offered = _candidates(catalog.offered(str(region)), settings)
        results.update(_size_region(rows, demand.loc[rows.index], offered, mode, max_options))
    return results


def _candidates(offered: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    keep = (offered["generation"] == "current") & ~offered["bare_metal"].astype(bool)
    keep &= offered["ondemand_hourly"].notna() & (offered["ondemand_hourly"] > 0)
    if not settings.allow_burstable_targets:
        keep &= ~offered["burstable"].astype(bool)
    return offered[keep]


def _size_region(rows: pd.DataFrame, demand: pd.DataFrame, offered: pd.DataFrame, mode: Mode,
                 max_options: int) -> dict[str, SizingResult]:
    types = offered.index.to_numpy()
    price = offered["ondemand_hourly"].to_numpy(float)
    t_vcpus = offered["vcpus"].to_numpy(float)
    t_mem = offered["memory_gib"].to_numpy(float)
    t_gpus = offered["gpus"].fillna(0).to_numpy(float)
    t_gpu_mem = offered["gpu_memory_gib"].fillna(0).to_numpy(float)
    t_net = offered["network_gbps"].to_numpy(float)
    t_family = offered["family"].astype(str).to_numpy()
    t_arch = offered["arch"].astype(str).to_numpy()
    t_gpu_model = offered["gpu_model"].astype(object).fillna("").to_numpy()
    t_accel = offered["accelerator"].notna().to_numpy()

    d = demand
    fits = (
        (t_vcpus[None, :] >= d["need_vcpus"].to_numpy(float)[:, None] - 1e-9)
        & (t_mem[None, :] >= d["need_memory"].to_numpy(float)[:, None] - 1e-9)
        & (t_gpus[None, :] >= d["need_gpus"].to_numpy(float)[:, None] - 1e-9)
        & (t_gpu_mem[None, :] >= d["need_gpu_memory"].to_numpy(float)[:, None] - 1e-9)
        & ((t_net[None, :] >= d["need_network"].to_numpy(float)[:, None]) | np.isnan(t_net)[None, :])
    )
    r_gpus = rows["gpus"].fillna(0).to_numpy(float)
    r_model = rows["gpu_model"].astype(object).fillna("").to_numpy()
    r_accel = rows["accelerator"].notna().to_numpy() if "accelerator" in rows else np.zeros(len(rows), bool)
    # Keep the accelerator class: CPU stays CPU; a GPU host keeps its GPU model in this version.
    same_class = np.where((r_gpus > 0)[:, None], t_gpu_model[None, :] == r_model[:, None],
                          (t_gpus == 0)[None, :] & ~t_accel[None, :])
    same_class &= ~(r_accel[:, None] ^ t_accel[None, :]) | (r_gpus > 0)[:, None]
    not_current = types[None, :] != rows["instance_type"].to_numpy()[:, None]
    eligible = fits & same_class & not_current
    r_family = rows["family"].astype(str).to_numpy()
    r_arch = rows["arch"].astype(str).to_numpy()
    same_arch = t_arch[None, :] == r_arch[:, None]
    masks = {
        "same family": eligible & same_arch & (t_family[None, :] == r_family[:, None]),
        "any family": eligible & same_arch,
        "graviton": eligible & (t_arch == "arm64")[None, :] & (r_arch != "arm64")[:, None] & (r_gpus == 0)[:, None],
    }
    best = {label: _cheapest(mask, price) for label, mask in masks.items()}
    capacity = {"cpu": t_vcpus, "memory": t_mem, "gpu": t_gpus, "gpu_memory": t_gpu_mem}
    base = {"cpu": d["base_vcpus"].to_numpy(float), "memory": d["base_memory"].to_numpy(float),
            "gpu": d["base_gpus"].to_numpy(float), "gpu_memory": d["base_gpu_memory"].to_numpy(float)}
    # Projected utilization is reported only for dimensions the history covers.
    observed = {"cpu": np.ones(len(rows), bool), "memory": rows["memory_demand"].notna().to_numpy(),
                "gpu": rows["gpu_demand"].notna().to_numpy() & (r_gpus > 0),
                "gpu_memory": rows["gpu_memory_demand"].notna().to_numpy() & (r_gpus > 0)}
    counts = rows["count"].to_numpy(float)
    current_price = rows["hourly_price"].to_numpy(float)
    need = d[[c for c in d.columns if c.startswith("need_")]]
    need_names = [c.removeprefix("need_") for c in need.columns]
    need_values = need.to_numpy(float)
    results = {}
    for i, resource_id in enumerate(rows.index):
        now = current_price[i]
        options = []
        seen: set[str] = set()
        for label in OPTION_LABELS:
            j = best[label][i]
            if j < 0 or types[j] in seen:
                continue
            hourly = float(price[j])
            if (mode == "down" and hourly >= now - 1e-9) or (mode == "modernize" and hourly > now + 1e-9):
                continue
            seen.add(types[j])
            projected = {dim: round(float(base[dim][i] / capacity[dim][j] * 100), 1)
                         for dim in capacity if observed[dim][i] and capacity[dim][j] > 0}
            options.append({
                "instance_type": str(types[j]), "label": label, "hourly_price": round(hourly, 4),
                "monthly_cost": round(hourly * HOURS_PER_MONTH * counts[i], 2),
                "monthly_savings": round(float((now - hourly) * HOURS_PER_MONTH * counts[i]), 2),
                "projected_utilization": projected, "risk": risk_of(projected),
                "vcpus": int(t_vcpus[j]), "memory_gib": float(t_mem[j]),
            })
        # The target (rank 1) is the cheapest option on the current architecture; Graviton needs an arm64 build,
        # so it is offered as an alternative even when cheaper.
        options.sort(key=lambda o: (o["label"] == "graviton", o["hourly_price"]))
        options = options[:max_options]
        for rank, option in enumerate(options, start=1):
            option["rank"] = rank
        demand_row = {name: round(float(v), 3) for name, v in zip(need_names, need_values[i], strict=True)}
        if not options:
            results[resource_id] = SizingResult(resource_id, None, None, demand=demand_row,
                                                note=_no_target_note(mode))
            continue
        primary = options[0]
        results[resource_id] = SizingResult(
            resource_id, primary["instance_type"], primary["hourly_price"],
            projected_utilization=primary["projected_utilization"], risk=primary["risk"],
            options=options, demand=demand_row,
        )
    return results


def _cheapest(mask: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Index of the cheapest allowed type per row, -1 where none is allowed."""
    priced = np.where(mask, price[None, :], np.inf)
    idx = priced.argmin(axis=1)
    return np.where(np.isfinite(priced[np.arange(len(priced)), idx]), idx, -1)


def _no_target_note(mode: Mode) -> str:
    if mode == "down":
        return "no cheaper type offered in the region holds the demand with headroom"
    if mode == "modernize":
        return "no current-generation type of the same shape costs the same or less"
    return "no type offered in the region holds the demand with headroom"
