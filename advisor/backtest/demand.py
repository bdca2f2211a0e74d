"""The later demand of each resource in absolute units, and whether a capacity would have held it.

Utilization is a percentage of the *current* type, so it is turned into units that move across types:
busy vCPUs (cpu % × vCPUs), GiB (memory % × GiB), busy GPU devices (gpu % × devices), GPU GiB (gpu_memory % ×
GPU memory) and IOPS (read + write) for volumes.
A capacity holds the demand when

* CPU and accelerator compute (rates, which throttle) are above it in at most 1 % of the samples,
* memory and GPU memory (which fail when full) are never above it,
* IOPS are never above the volume's limit (gp2 judged at its baseline, without burst credits; readings above
  what the current volume can deliver are capped there, as rounding).

A dimension the later history does not cover is assumed fully used at the current capacity: a change that shrinks it
cannot be shown to hold, so it does not. A dimension whose later samples sit at the current capacity (at least 1 %
of them at 98 % or more) is *censored*: the demand is only known to be at least the capacity, so a target that keeps
or raises that capacity cannot be judged either way. A *stop* holds when the resource stayed idle: CPU and GPU at
most 5 % of the current capacity (by the same 1 % rule) and volumes at most 1 IOPS; memory is not judged. Samples
are the per-period maxima where a source gives both averages and maxima, as for sizing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advisor.catalog import Catalog
from advisor.engine import accelerators
from advisor.engine.stats import index_series
from advisor.model import Kind

RATE_DIMS = ("cpu", "gpu")
RATE_OVER_SHARE = 0.01  # a rate dimension may exceed its capacity in this share of samples
IDLE_SHARE = 0.05  # a stopped resource was idle when its rates stayed within 5 % of the current capacity
IDLE_IOPS = 1.0
CENSORED_LEVEL = 0.98  # a sample at this share of the current capacity or more sits at the capacity
CENSORED_SHARE = 0.01  # ... and a dimension with at least this share of such samples is censored
STOP_TARGETS = frozenset({"stop", "terminate", "delete"})
# metric -> (dimension, column of the current type whose capacity the percentage is of; None: absolute)
_METRIC_DIMS = {"cpu": ("cpu", "vcpus"), "memory": ("memory", "memory_gib"), "gpu": ("gpu", "units"),
                "gpu_memory": ("gpu_memory", "accel_memory"), "read_iops": ("iops", None),
                "write_iops": ("iops", None)}
_EPS = 1e-9

Limits = dict[str, float]  # capacity per dimension, in the units of the resource's demand


def instance_specs(catalog: Catalog, instance_types: list[str]) -> pd.DataFrame:
    """Spec rows (vCPUs, GiB, accelerator class, model, devices, TFLOPS, GiB) of EC2 or ``ml.`` types."""
    names = [str(t).removeprefix("ml.") for t in instance_types]
    known = [n for n in names if n in catalog.types.index]
    specs = catalog.types.loc[known]
    return pd.concat([specs, accelerators.capacity(specs)], axis=1)


def volume_iops_limit(volume_type: str, size_gib: float | None, provisioned_iops: float | None,
                      burst: bool = False) -> float | None:
    """The IOPS a volume sustains: gp2 3/GiB (100-16,000; with ``burst``, at least the 3,000 its credits allow),
    gp3 3,000 or the provisioned figure, io1/io2 the provisioned figure; None for st1, sc1 (priced by throughput)."""
    kind = str(volume_type).lower()
    iops = None if provisioned_iops is None or pd.isna(provisioned_iops) else float(provisioned_iops)
    if kind == "gp2":
        if size_gib is None or pd.isna(size_gib):
            return None
        baseline = float(min(max(100.0, 3.0 * size_gib), 16_000.0))
        return max(baseline, 3_000.0) if burst else baseline
    if kind == "gp3":
        return max(iops or 0.0, 3_000.0)
    if kind in ("io1", "io2"):
        return iops
    return None


@dataclass
class Verdict:
    """How a capacity fared against the later demand."""

    held: bool
    failed: list[str] = field(default_factory=list)  # dimensions that did not hold
    cpu_over_share: float | None = None  # share of CPU samples above the capacity
    peak_utilization: dict[str, float] = field(default_factory=dict)  # later peak / capacity, in %

    @property
    def worst_overshoot_pct(self) -> float:
        """How far the worst later peak went above the capacity, in % (0 when every peak fitted)."""
        peak = max(self.peak_utilization.values(), default=0.0)
        return max(peak - 100.0, 0.0)


@dataclass
class ResourceDemand:
    """One resource's later demand: sorted absolute samples per observed dimension.

    ``current`` is the current type's spec row (instances) or ``{"iops": limit}`` (volumes). Accelerator demand
    is in devices of the current model; another model's capacity is converted to that unit by its TFLOPS, the
    weaker of FP16 and FP32 (as sizing does), and GPU memory must fit in total and per device.
    """

    resource_id: str
    current: pd.Series
    samples: dict[str, np.ndarray]
    _current_limits: dict[str, float] | None = field(default=None, repr=False, compare=False)

    def dims(self) -> list[str]:
        """The dimensions judged for this resource."""
        if "iops" in self.current.index:
            return ["iops"]
        accelerated = str(self.current["accel_class"]) != "cpu"
        return ["cpu", "memory", *(["gpu", "gpu_memory"] if accelerated else [])]

    def limits(self, targets: pd.DataFrame) -> dict[str, np.ndarray]:
        """Each target type's capacity per dimension, in this resource's units (see :func:`instance_specs`)."""
        cur = self.current
        out = {"cpu": targets["vcpus"].to_numpy(float), "memory": targets["memory_gib"].to_numpy(float)}
        if "gpu" not in self.dims():
            return out
        same = (targets["accel_model"].astype(str) == str(cur["accel_model"])).to_numpy()
        units = float(cur["units"]) or 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            by_fp16 = targets["fp16"].to_numpy(float) / (float(cur["fp16"]) / units)
            by_fp32 = targets["fp32"].to_numpy(float) / (float(cur["fp32"]) / units)
        equivalent = np.nan_to_num(np.fmin(by_fp16, by_fp32), nan=0.0, posinf=0.0)
        out["gpu"] = np.where(same, targets["units"].to_numpy(float), equivalent)
        device_ratio = float(cur["accel_memory"]) / float(cur["device_memory"]) if cur["device_memory"] else 1.0
        out["gpu_memory"] = np.fmin(targets["accel_memory"].to_numpy(float),
                                    targets["device_memory"].to_numpy(float) * device_ratio)
        return out

    def current_limit(self, dim: str) -> float:
        if dim == "iops":
            return float(self.current["iops"])
        if self._current_limits is None:  # the current type's row as a one-row frame is slow to build: once
            self._current_limits = {d: float(v[0]) for d, v in self.limits(self.current.to_frame().T).items()}
        return self._current_limits[dim]

    def need(self, dim: str) -> float:
        """The smallest capacity of ``dim`` that holds the later demand."""
        values = self.samples.get(dim)
        if values is None or len(values) == 0:
            return self.current_limit(dim)
        if dim in RATE_DIMS:
            allowed = math.floor(RATE_OVER_SHARE * len(values))
            return float(values[len(values) - 1 - allowed])
        return float(values[-1])

    def censored(self) -> list[str]:
        """Dimensions whose later demand sits at the current capacity (see the module docstring)."""
        out = []
        for dim in self.dims():
            values = self.samples.get(dim)
            if dim == "iops" or values is None or not len(values):
                continue
            at_capacity = values >= CENSORED_LEVEL * self.current_limit(dim) - _EPS
            if at_capacity.mean() >= CENSORED_SHARE:
                out.append(dim)
        return out

    def judge(self, limits: Limits) -> Verdict:
        failed: list[str] = []
        peaks: dict[str, float] = {}
        over_share = None
        for dim in self.dims():
            cap = float(limits.get(dim, 0.0))
            need = self.need(dim)
            values = self.samples.get(dim)
            peak = float(values[-1]) if values is not None and len(values) else need
            if cap > 0:
                peaks[dim] = round(peak / cap * 100, 1)
            elif peak > 0:
                peaks[dim] = math.inf
            if dim == "cpu" and values is not None and len(values):
                over_share = float((values > cap * (1 + _EPS) + _EPS).mean())
            if need > cap * (1 + _EPS) + _EPS:
                failed.append(dim)
        return Verdict(held=not failed, failed=failed, cpu_over_share=over_share, peak_utilization=peaks)

    def idle(self) -> bool:
        """Whether the resource stayed idle, so that stopping it would have held."""
        if self.dims() == ["iops"]:
            return "iops" in self.samples and self.need("iops") <= IDLE_IOPS
        rates = [d for d in RATE_DIMS if d in self.dims()]
        return all(d in self.samples and self.need(d) <= IDLE_SHARE * self.current_limit(d) + _EPS for d in rates)

    def judge_stop(self) -> Verdict:
        if self.idle():
            return Verdict(held=True)
        return Verdict(held=False, failed=[d for d in self.dims() if d in (*RATE_DIMS, "iops")])


def later_demand(inventory: pd.DataFrame, test_metrics: pd.DataFrame, catalog: Catalog) -> dict[str, ResourceDemand]:
    """Absolute later demand of every resource with a known capacity and at least one later sample."""
    relevant = test_metrics[test_metrics["metric"].isin(list(_METRIC_DIMS))]  # on the categories, not per row
    index = index_series(relevant)
    current = _current(inventory, catalog)
    series: dict[str, dict[str, list[tuple[np.ndarray, np.ndarray]]]] = {}
    for rid, metric, start, count in zip(index.resource_ids, index.metrics, index.starts, index.counts,
                                         strict=True):
        if rid not in current:
            continue
        dim, column = _METRIC_DIMS[str(metric)]
        values = index.values[start:start + count]
        if column is not None:
            if column not in current[rid].index:
                continue
            values = np.clip(values, 0.0, 100.0) / 100.0 * float(current[rid][column])
        series.setdefault(rid, {}).setdefault(dim, []).append((index.seconds[start:start + count], values))
    demand = {}
    for rid, dims in series.items():
        later = ResourceDemand(rid, current[rid], {})
        later.samples = {dim: np.sort(_combine(parts)) for dim, parts in dims.items() if dim in later.dims()}
        if "iops" in later.samples:
            # A volume cannot deliver more than its ceiling: readings above it are rounding, not demand.
            later.samples["iops"] = np.minimum(later.samples["iops"], current[rid]["iops_ceiling"])
        if later.samples:
            demand[rid] = later
    return demand


def _current(inventory: pd.DataFrame, catalog: Catalog) -> dict[str, pd.Series]:
    """The current capacity of each resource: its type's spec row, or its volume's IOPS limit."""
    out: dict[str, pd.Series] = {}
    volumes = inventory[inventory["kind"] == Kind.EBS_VOLUME]
    for rid, volume_type, size, iops in zip(volumes["resource_id"], volumes["volume_type"], volumes["size_gib"],
                                            volumes["iops"], strict=True):
        limit = volume_iops_limit(volume_type, size, iops)
        if limit is not None:
            ceiling = volume_iops_limit(volume_type, size, iops, burst=True)
            out[str(rid)] = pd.Series({"iops": limit, "iops_ceiling": ceiling})
    instances = inventory[(inventory["kind"] != Kind.EBS_VOLUME) & inventory["instance_type"].notna()]
    types = instances["instance_type"].astype(str).str.removeprefix("ml.")
    specs = instance_specs(catalog, sorted(set(types)))
    rows = {name: specs.loc[[name]].iloc[0] for name in specs.index.unique()}  # one Series per type, shared
    for rid, name in zip(instances["resource_id"].astype(str), types, strict=True):
        if name in rows:
            out[rid] = rows[name]
    return out


def _combine(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """One series per dimension: IOPS add read and write at the same timestamp."""
    if len(parts) == 1:
        return parts[0][1]
    seconds = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    stamps, where = np.unique(seconds, return_inverse=True)
    return np.bincount(where, weights=values, minlength=len(stamps))
