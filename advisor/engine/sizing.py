"""Sizing: turn demand into the cheapest catalog type that holds it, with up to three ranked options.

Demand is absolute (busy vCPUs, GiB, Gbit/s, accelerator TFLOPS and GiB): the demand percentage (the policy
statistic or the forecast peak, whichever is higher) times the current capacity, plus headroom. GPU memory is a
hard limit: its peak (the maximum, or the forecast if higher) is held, never a percentile. A dimension without
metrics is held at its current capacity: a missing metric is never read as zero. A network without metrics holds
the current type's baseline bandwidth (the catalog's ``network_gbps``, AWS's ``BaselineBandwidthInGbps``, not the
"up to" burst figure), compared with each candidate's baseline. Where the catalog does not know the current type's
baseline, no candidate can be shown to hold it; a candidate whose baseline it does not know may hold a measured
demand, never a held one. Memory headroom is at least the largest step up of the daily memory level seen in the
history (``memory_step``) and at least ``memory_min_headroom_gib`` (1 GiB), up to the current memory size: memory
that stepped up once may step up again, and a small type has little room for the OS, agents and the next spike, so
these keep memory but never add it.
Capacity above the current type's is added only on measured demand (the statistic plus the policy's headroom; the
forecast holds capacity but does not add it unless ``forecast_adds_capacity``) or on demand censored at the
capacity, as capacity is removed only on evidence of spare capacity.

A candidate must hold every dimension, be offered in the resource's region for its service (EC2 or SageMaker),
be current generation, and keep the accelerator class unless the :class:`Scope` allows more:

* a CPU instance stays on CPU types;
* a GPU host may move to any GPU model of the same vendor in the throughput table that holds its compute on both
  FP16 and FP32 and its memory (in total and per device); models missing from the table only move within their
  own model;
* with a scope, a GPU host may also get Inferentia (inference) or Trainium (training) options, which need the
  model compiled with AWS Neuron, and CPU-only options when its GPU is idle;
* an Elastic Inference host being migrated must hold the EI accelerator's capacity on a GPU or Inferentia.

All resources of a region and service are matched against all candidate types at once with numpy broadcasting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from advisor import kinds
from advisor.catalog import Catalog
from advisor.engine import accelerators
from advisor.engine.candidates import CandidateArrays, candidate_arrays, service_of
from advisor.settings import Settings

Mode = Literal["down", "up", "modernize"]
RISK_STEPS = (60.0, 70.0, 80.0, 90.0)  # projected peak utilization on the target -> risk 0 (very low) .. 4
CPU_LABELS = ("same family", "any family", "graviton")
ACCEL_LABELS = ("same accelerator model", "other GPU", "Inferentia", "Trainium", "CPU only")
NEEDS_REBUILD = {"graviton": "needs an arm64 build",
                 "Inferentia": "needs the model compiled with AWS Neuron (inference only)",
                 "Trainium": "needs the training code ported to AWS Neuron"}
_EPS = 1e-9


@dataclass(frozen=True)
class Scope:
    """What a sizing may offer beyond the resource's own accelerator class (see the module docstring)."""

    neuron: np.ndarray | None = None  # per row: "inferentia", "trainium" or "" (none)
    cpu_only: np.ndarray | None = None  # per row: CPU-only types allowed (the GPU is idle)
    migrate_ei: bool = False  # replace an Elastic Inference attachment (its price goes, its capacity stays)


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
    price_estimated: bool = False


def risk_of(projected: dict[str, float]) -> int:
    """Compute-Optimizer-style performance risk 0-4 from the highest projected peak utilization."""
    peak = max((v for v in projected.values() if v is not None and np.isfinite(v)), default=0.0)
    return int(np.searchsorted(RISK_STEPS, peak, side="right"))


def demand_frame(features: pd.DataFrame, settings: Settings, mode: Mode,
                 current: pd.DataFrame | None = None) -> pd.DataFrame:
    """Absolute demand per resource, with and without headroom (columns need_*, base_*); ``current`` is
    :func:`accelerators.capacity` of ``features`` when the caller has it."""
    f = features
    cap = accelerators.capacity(f) if current is None else current
    out = pd.DataFrame(index=f.index)
    has_cpu = f["cpu_demand"].notna()
    out["base_vcpus"] = np.where(has_cpu, f["cpu_demand"] / 100 * f["vcpus"], f["vcpus"])
    out["need_vcpus"] = np.where(has_cpu, out["base_vcpus"] * (1 + settings.sizing.cpu.headroom), f["vcpus"])
    has_memory = f["memory_demand"].notna()
    out["base_memory"] = np.where(has_memory, f["memory_demand"] / 100 * f["memory_gib"], f["memory_gib"])
    out["need_memory"] = np.where(has_memory, memory_need(out["base_memory"].to_numpy(float),
                                                          f["memory_gib"].to_numpy(float), memory_step_gib(f),
                                                          settings.sizing.memory.headroom,
                                                          settings.sizing.memory_min_headroom_gib), f["memory_gib"])
    network_bytes = f["network_demand"].fillna(0.0)
    out["base_network"] = network_bytes * 8 / 1e9
    out["need_network"] = out["base_network"] * (1 + settings.sizing.network.headroom)
    out["network_held"] = False
    if settings.sizing.missing_network == "hold":  # a missing metric is never zero demand
        unmeasured = f["network_demand"].isna() & f["kind"].map(_measures_network).astype(bool)
        # the current type's baseline; where the catalog does not know it, no type can be shown to offer it
        out["need_network"] = out["need_network"].where(~unmeasured, f["network_gbps"].fillna(np.inf))
        out["network_held"] = unmeasured
    out = out.join(_accelerator_demand(f, settings, cap))
    if mode == "modernize":
        # Same shape on a current-generation type: hold the current capacity; usage only drives the projection.
        out["need_vcpus"], out["need_memory"], out["need_network"] = f["vcpus"], f["memory_gib"], 0.0
        out["network_held"] = False
        for dim in ("units", "fp16", "fp32", "accel_memory", "device_memory"):
            out[f"need_{dim}"] = cap[dim]
    out["base_vcpus"] = out["base_vcpus"].fillna(0.0)
    return out


def _measures_network(kind: object) -> bool:
    return str(kind) in kinds.ids() and kinds.get(str(kind)).measures("network_in")


def memory_need(base: np.ndarray, capacity: np.ndarray, step: np.ndarray, headroom: float,
                min_headroom: float = 0.0) -> np.ndarray:
    """Memory to hold, in GiB: the demand plus the largest of its headroom, the largest step seen and
    ``min_headroom`` GiB, where the step's and the minimum's part go no higher than the current ``capacity`` (see
    the module docstring)."""
    measured = base * (1 + headroom)
    kept = np.fmax(np.fmax(base * headroom, step), min_headroom)
    return np.fmax(measured, np.fmin(base + kept, capacity))


def memory_step_gib(f: pd.DataFrame) -> np.ndarray:
    """The largest step up of the daily memory level seen, in GiB (0 where none was seen)."""
    step = f["memory_step"] if "memory_step" in f else pd.Series(np.nan, index=f.index)
    return np.nan_to_num((step / 100 * f["memory_gib"]).to_numpy(float))


def _accelerator_demand(f: pd.DataFrame, settings: Settings, cap: pd.DataFrame) -> pd.DataFrame:
    """Compute (TFLOPS, or devices for models outside the table) and memory the accelerators must hold.

    Only GPU utilization is observed (``gpu``, ``gpu_memory``); other accelerators (Neuron, EI) are held at their
    full capacity.
    """
    out = pd.DataFrame(index=f.index)
    gpu_row = (cap["accel_class"] == "gpu").to_numpy()
    busy = np.where(gpu_row, f["gpu_demand"].to_numpy(float) / 100, np.nan)
    seen = ~np.isnan(busy)
    grow = 1 + settings.sizing.gpu.headroom
    for dim in ("units", "fp16", "fp32"):
        current = cap[dim].to_numpy(float)
        out[f"base_{dim}"] = np.where(seen, busy * current, current)
        out[f"need_{dim}"] = np.where(seen, busy * current * grow, current)
    peak = np.where(gpu_row, np.fmax(f["gpu_memory_max"].to_numpy(float), f["gpu_memory_demand"].to_numpy(float)),
                    np.nan) / 100
    # per device: the fullest GPU's peak where measured (a model on one GPU of four needs one device that holds it)
    device_peak = np.fmax(peak, accelerators.fullest_device_share(f, gpu_row))
    grow_memory = 1 + settings.sizing.gpu_memory.headroom
    for dim, share in (("accel_memory", peak), ("device_memory", device_peak)):
        current = cap[dim].to_numpy(float)
        held = ~np.isnan(share)
        out[f"base_{dim}"] = np.where(held, share * current, current)
        out[f"need_{dim}"] = np.where(held, share * current * grow_memory, current)
    return out.fillna({c: 0.0 for c in out.columns if c.endswith(("units", "memory"))})


def size_resources(features: pd.DataFrame, catalog: Catalog, settings: Settings, mode: Mode,
                   max_options: int = 3, scope: Scope | None = None) -> dict[str, SizingResult]:
    """Size every resource in ``features`` (rows with specs, prices and demand columns)."""
    scope = scope or Scope()
    current = accelerators.capacity(features)
    demand = demand_frame(features, settings, mode, current)
    results: dict[str, SizingResult] = {}
    keys = pd.DataFrame({"region": features["region"].astype(str).to_numpy(),
                         "service": service_of(features["kind"]), "position": np.arange(len(features))})
    for (region, service), part in keys.groupby(["region", "service"], sort=False):
        offered = candidate_arrays(catalog, str(region), service, settings.sizing.allow_burstable_targets)
        where = part["position"].to_numpy()
        sub_scope = Scope(neuron=None if scope.neuron is None else scope.neuron[where],
                          cpu_only=None if scope.cpu_only is None else scope.cpu_only[where],
                          migrate_ei=scope.migrate_ei)
        results.update(_size_group(features.iloc[where], demand.iloc[where], current.iloc[where], offered, mode,
                                   max_options, sub_scope))
    return results


def _size_group(rows: pd.DataFrame, d: pd.DataFrame, cur: pd.DataFrame, t: CandidateArrays, mode: Mode,
                max_options: int, scope: Scope) -> dict[str, SizingResult]:
    n = len(rows)
    price = t.numbers["hourly"]

    def col(frame: pd.DataFrame, name: str) -> np.ndarray:
        return frame[name].to_numpy(float)

    def tcol(name: str) -> np.ndarray:
        return t.numbers[name]

    def at_least(have: np.ndarray, need: np.ndarray) -> np.ndarray:
        return have[None, :] >= need[:, None] - _EPS

    network = tcol("network_gbps")
    # A type whose bandwidth the catalog does not know passes a measured demand, never a held one (it cannot be
    # shown to offer what the current type guarantees).
    held = d["network_held"].to_numpy(bool)
    fits_host = (at_least(tcol("vcpus"), col(d, "need_vcpus")) & at_least(tcol("memory_gib"), col(d, "need_memory"))
                 & (at_least(network, col(d, "need_network")) | (np.isnan(network)[None, :] & ~held[:, None])))
    t_class = t.texts["accel_class"]
    t_model = t.texts["accel_model"]
    r_class = cur["accel_class"].to_numpy(object).copy()
    r_model = cur["accel_model"].to_numpy(object)
    ei = r_class == "elastic_inference"
    if not scope.migrate_ei:
        r_class[ei] = "cpu"  # the EI attachment stays; only the host is sized (its price is added back below)
    known = ~np.isnan(tcol("fp16"))[None, :] & ~np.isnan(col(cur, "fp16"))[:, None]
    cross = at_least(np.nan_to_num(tcol("fp16")), col(d, "need_fp16")) & at_least(np.nan_to_num(tcol("fp32")),
                                                                                  col(d, "need_fp32"))
    same_model = t_model[None, :] == r_model[:, None]
    # Another GPU must come from the same vendor (CUDA vs ROCm); an EI model migrates to a CUDA GPU.
    t_vendor = t.texts["accel_vendor"]
    r_vendor = np.where(ei, "NVIDIA", cur["accel_vendor"].to_numpy(object))
    same_vendor = t_vendor[None, :] == r_vendor[:, None]
    compute = np.where(known, cross, same_model & at_least(tcol("units"), col(d, "need_units")))
    memory = (at_least(tcol("accel_memory"), col(d, "need_accel_memory"))
              & at_least(tcol("device_memory"), col(d, "need_device_memory")))
    fits_accel = compute & memory
    current_type = rows["instance_type"].astype(str).str.removeprefix("ml.").to_numpy()
    not_current = t.types[None, :] != current_type[:, None]
    t_arch = t.texts["arch"]
    same_arch = t_arch[None, :] == rows["arch"].astype(str).to_numpy()[:, None]
    base = fits_host & not_current
    accelerated = np.isin(r_class, ("gpu", "inferentia", "trainium", "elastic_inference", "other"))
    neuron = scope.neuron if scope.neuron is not None else np.full(n, "", dtype=object)
    if scope.migrate_ei:
        neuron = np.where(ei, "inferentia", neuron)
    cpu_only = scope.cpu_only if scope.cpu_only is not None else np.zeros(n, bool)
    is_cpu_t = (t_class == "cpu")[None, :]
    r_family = rows["family"].astype(str).to_numpy()[:, None]
    t_family = t.texts["family"][None, :]
    cpu_row = ~accelerated[:, None]
    acc_row = accelerated[:, None]
    masks = {
        "same family": base & cpu_row & is_cpu_t & same_arch & (t_family == r_family),
        "any family": base & cpu_row & is_cpu_t & same_arch,
        "graviton": (base & cpu_row & is_cpu_t & (t_arch == "arm64")[None, :]
                     & (rows["arch"].astype(str).to_numpy() != "arm64")[:, None]),
        "same accelerator model": base & acc_row & fits_accel & same_model & (t_class[None, :] == r_class[:, None]),
        "other GPU": (base & acc_row & fits_accel & same_arch & (t_class == "gpu")[None, :] & ~same_model & known
                      & same_vendor),
        "Inferentia": base & acc_row & fits_accel & (t_class == "inferentia")[None, :]
        & (neuron == "inferentia")[:, None] & known,
        "Trainium": base & acc_row & fits_accel & (t_class == "trainium")[None, :]
        & (neuron == "trainium")[:, None] & known,
        "CPU only": base & acc_row & is_cpu_t & same_arch & cpu_only[:, None],
    }
    kept_extra = np.where(ei & ~scope.migrate_ei, rows.get("ei_hourly", pd.Series(0.0, index=rows.index))
                          .fillna(0).to_numpy(float), 0.0)
    best = {label: _cheapest(mask, price) for label, mask in masks.items()}
    primary = {"same family", "any family", "same accelerator model", "other GPU", "CPU only"}
    if scope.migrate_ei:
        primary.add("Inferentia")
    projections = _Projection(d, t, rows, cur)
    tv = {"name": t.texts["name"], "accel_model": t_model, "estimated": t.estimated,
          **{c: t.numbers[c] for c in ("vcpus", "memory_gib", "gpus", "units", "accel_memory")}}
    counts = rows["count"].to_numpy(float)
    hours = rows["hours_billed"].to_numpy(float) if "hours_billed" in rows else np.full(n, 730.0)
    current_price = rows["hourly_price"].to_numpy(float)
    need_names = [c for c in d.columns if c.startswith("need_")]
    need_values = d[need_names].to_numpy(float)
    results = {}
    for i, resource_id in enumerate(rows.index):
        now = current_price[i]
        options = []
        seen: set[int] = set()
        for label in (*CPU_LABELS, *ACCEL_LABELS):
            j = best[label][i]
            if j < 0 or j in seen:
                continue
            hourly = float(price[j]) + kept_extra[i]
            if (mode == "down" and hourly >= now - _EPS) or (mode == "modernize" and hourly > now + _EPS):
                continue
            seen.add(j)
            projected = projections.at(i, j, label == "CPU only")
            option = {
                "instance_type": str(tv["name"][j]), "label": label, "hourly_price": round(hourly, 4),
                "monthly_cost": round(float(hourly * hours[i] * counts[i]), 2),
                "monthly_savings": round(float((now - hourly) * hours[i] * counts[i]), 2),
                "projected_utilization": projected, "risk": risk_of(projected),
                "vcpus": int(tv["vcpus"][j]), "memory_gib": float(tv["memory_gib"][j]),
                "price_estimated": bool(tv["estimated"][j]),
            }
            if t_class[j] != "cpu":
                count = tv["gpus"][j] if t_class[j] == "gpu" else tv["units"][j]
                option["accelerators"] = f"{count:g} x {tv['accel_model'][j]} ({tv['accel_memory'][j]:.3g} GiB)"
            if label in NEEDS_REBUILD:
                option["note"] = NEEDS_REBUILD[label]
            options.append(option)
        # The target (rank 1) is the cheapest option that runs the same build; Graviton and Neuron need a rebuild,
        # so they are offered as alternatives even when cheaper.
        options.sort(key=lambda o: (o["label"] not in primary, o["hourly_price"]))
        options = options[:max_options]
        for rank, option in enumerate(options, start=1):
            option["rank"] = rank
        demand_row = {name.removeprefix("need_"): round(float(v), 3)
                      for name, v in zip(need_names, need_values[i], strict=True) if np.isfinite(v) and v}
        if not options or options[0]["label"] not in primary:
            results[resource_id] = SizingResult(resource_id, None, None, options=options, demand=demand_row,
                                                note=_no_target_note(mode))
            continue
        first = options[0]
        results[resource_id] = SizingResult(
            resource_id, first["instance_type"], first["hourly_price"],
            projected_utilization=first["projected_utilization"], risk=first["risk"],
            options=options, demand=demand_row, price_estimated=first["price_estimated"],
        )
    return results


SCALE_OUT_LABEL = "scale out"
SCALE_OUT_NOTE = ("each instance holds its own copy of the model: GPU and host memory per instance stay as they are; "
                  "the compute demand spreads over the instances")


def scale_out_options(features: pd.DataFrame, settings: Settings) -> dict[str, dict]:
    """More instances of the current type, for multi-GPU hosts whose work scales out (members of an Auto Scaling
    group, SageMaker endpoint variants), priced beside a larger type: where the memory demand (host, GPU in total
    and per device) fits the current type, the fewest instances that hold the compute demand (vCPUs, GPU TFLOPS or
    devices) with headroom. Keyed by resource id; rows that do not scale out or whose memory outgrew the type get
    none. Money as the other options: per instance hourly, monthly for all of them, savings against now (negative).
    """
    f = features
    cap = accelerators.capacity(f)
    scales = (f["kind"].astype(str) == "sagemaker_endpoint") | f.get("in_auto_scaling_group",
                                                                   pd.Series(False, index=f.index)).fillna(False)
    eligible = scales.to_numpy(bool) & (pd.to_numeric(f["gpus"], errors="coerce").fillna(0) >= 2).to_numpy()
    if not eligible.any():
        return {}
    rows, cap = f[eligible], cap[eligible]
    d = demand_frame(rows, settings, "up", cap)
    memory_fits = ((d["need_memory"] <= rows["memory_gib"] + _EPS)
                   & (d["need_accel_memory"] <= cap["accel_memory"] + _EPS)
                   & (d["need_device_memory"] <= cap["device_memory"] + _EPS))
    ratios = pd.concat([d["need_vcpus"] / rows["vcpus"], d["need_units"] / cap["units"].where(cap["units"] > 0),
                        d["need_fp16"] / cap["fp16"].where(cap["fp16"] > 0),
                        d["need_fp32"] / cap["fp32"].where(cap["fp32"] > 0)], axis=1).max(axis=1)
    need, have = d.to_dict("index"), cap.to_dict("index")
    fits, ratio = memory_fits.to_dict(), ratios.to_dict()
    out: dict[str, dict] = {}
    for rid, row in rows.to_dict("index").items():
        n, c = need[rid], have[rid]
        if not fits[rid] or not np.isfinite(ratio[rid]) or ratio[rid] <= 1 + _EPS:
            continue
        count = float(row["count"]) or 1.0
        instances = int(np.ceil(count * float(ratio[rid]) - _EPS))
        share = count / instances
        hourly, hours = float(row["hourly_price"]), float(row.get("hours_billed", 730.0))
        compute = [_pct(n[f"base_{p}"] * share, c[p]) for p in ("fp16", "fp32") if c[p] > 0]
        projected = {"cpu": _pct(n["base_vcpus"] * share, float(row["vcpus"])),
                     "memory": _pct(n["base_memory"], float(row["memory_gib"])),
                     "gpu": max(compute) if compute else _pct(n["base_units"] * share, c["units"]),
                     "gpu_memory": _pct(n["base_accel_memory"], c["accel_memory"])}
        out[str(rid)] = {
            "instance_type": f"{row['instance_type']} x{instances}", "label": SCALE_OUT_LABEL,
            "hourly_price": round(hourly, 4), "monthly_cost": round(hourly * hours * instances, 2),
            "monthly_savings": round(-hourly * hours * (instances - count), 2),
            "projected_utilization": projected, "risk": risk_of(projected), "instances": instances,
            "price_estimated": bool(row.get("price_estimated", False)), "note": SCALE_OUT_NOTE,
        }
    return out


class _Projection:
    """Projected peak utilization of row i on candidate j, for the dimensions the history covers."""

    def __init__(self, d: pd.DataFrame, t: CandidateArrays, rows: pd.DataFrame, cur: pd.DataFrame) -> None:
        self.base = {c: d[f"base_{c}"].to_numpy(float) for c in ("vcpus", "memory", "units", "fp16", "fp32",
                                                                  "accel_memory")}
        self.cap = {c: t.numbers[c] for c in ("vcpus", "memory_gib", "units", "fp16", "fp32", "accel_memory")}
        gpu_row = (cur["accel_class"] == "gpu").to_numpy()
        self.observed_memory = rows["memory_demand"].notna().to_numpy()
        self.observed_gpu = rows["gpu_demand"].notna().to_numpy() & gpu_row
        self.observed_gpu_memory = (rows["gpu_memory_max"].notna() | rows["gpu_memory_demand"].notna()).to_numpy() \
            & gpu_row

    def at(self, i: int, j: int, cpu_only: bool) -> dict[str, float]:
        base, cap = self.base, self.cap
        out = {"cpu": _pct(base["vcpus"][i], cap["vcpus"][j])}
        if self.observed_memory[i]:
            out["memory"] = _pct(base["memory"][i], cap["memory_gib"][j])
        if cpu_only:
            return out
        if self.observed_gpu[i]:
            ratios = [_pct(base[p][i], cap[p][j]) for p in ("fp16", "fp32") if cap[p][j] > 0]
            out["gpu"] = max(ratios) if ratios else _pct(base["units"][i], cap["units"][j])
        if self.observed_gpu_memory[i]:
            out["gpu_memory"] = _pct(base["accel_memory"][i], cap["accel_memory"][j])
        return out


def _pct(used: float, capacity: float) -> float:
    return round(float(used / capacity * 100), 1) if capacity and capacity > 0 else 0.0


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
