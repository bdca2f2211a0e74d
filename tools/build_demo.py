"""Build the bundled demo fleet (``advisor/data/demo/``) from the real utilization traces in ``../shared``.

    python tools/build_demo.py [--shared ../shared]

Every metric series is a window of a real public trace (Bitbrains, Alibaba GenTD26 GPU pods, Google 2011,
Azure 2017, Alibaba 2018, PlanetLab), re-timed onto the demo window (2026-11-02T00:00Z, 14 days, 5 minutes)
and transformed monotonically so that the quantiles a scenario promises land where it needs them:

* ``power map``: y = t_hi * (x / x_hi) ** g, with g chosen so that the trace's q_lo quantile lands on t_lo and
  its q_hi quantile (p99, or the max for memory) on t_hi; the order and shape of the samples are kept;
* ``linear scale``: y = x * t / x_q (network, disk, invocations, mostly-zero GPU series);
* ``ramp`` (growing) and ``per-day factors`` (weekly shape) multiply a real trace by a slow trend.

The random choices (which trace, which target inside a scenario's range) use one fixed seed, so two builds
write identical files. The script writes inventory.parquet, metrics.parquet and README.md (provenance).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.sources.demo import (  # noqa: E402
    DEMO_DAYS,
    DEMO_END,
    DEMO_START,
    PERIOD_MINUTES,
    encode_values,
    is_percent,
)

OUT = ROOT / "advisor" / "data" / "demo"
SEED = 20261102
PER_DAY = 24 * 60 // PERIOD_MINUTES  # 288 five-minute periods a day
BINS = DEMO_DAYS * PER_DAY  # 4032 periods in the window
STEP_S = PERIOD_MINUTES * 60
GP2_CREDITS = 5.4e6  # I/O credits in a full gp2 bucket
GP2_BURST_IOPS = 3000.0
NIC_BYTES = 1.25e9  # 10 Gbit/s: the most network any demo series may show

ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")
TEAMS = {"ml-platform": "CC-4100", "search": "CC-2300", "recommendations": "CC-2310", "data-eng": "CC-3200",
         "web": "CC-1100", "payments": "CC-1500", "analytics": "CC-3300", "research": "CC-4200"}
IDLE_CPU_PEAK = 4.0  # % CPU: the truly idle demo boxes peak under Compute Optimizer's 5 %
TRACE_LABELS = ("Bitbrains Rnd", "GenTD26", "Google 2011", "Azure V1", "Alibaba 2018", "PlanetLab")

Array = np.ndarray


# --------------------------------------------------------------------------------------------------------------
# Transforms


def quantile(x: Array, q: float) -> float:
    return float(np.nanquantile(x, q))


def power_map(x: Array, q_lo: float, t_lo: float, q_hi: float, t_hi: float, cap: float = 100.0) -> Array:
    """Monotone y = t_hi * (x/x_hi)**g putting the q_lo quantile on t_lo and the q_hi quantile on t_hi."""
    shift = 1e-3 * max(quantile(x, q_hi), 1e-6)
    xs = x + shift
    lo, hi = quantile(xs, q_lo), quantile(xs, q_hi)
    gamma = float(np.clip(np.log(t_lo / t_hi) / np.log(lo / hi), 0.2, 4.0)) if lo < hi else 1.0
    return np.minimum(t_hi * (xs / hi) ** gamma, cap)


def linear_scale(x: Array, q: float, target: float, cap: float | None = None) -> Array:
    """y = x * target / (q quantile of x); x must be non-negative with a positive q quantile."""
    ref = quantile(x, q)
    if ref <= 0:
        raise ValueError("cannot scale a trace whose reference quantile is zero")
    y = x * (target / ref)
    return np.minimum(y, cap) if cap is not None else y


def daily(x: Array, q: float) -> Array:
    """Per-day q quantile of a full-window series."""
    return np.nanquantile(x.reshape(DEMO_DAYS, PER_DAY), q, axis=1)


def ramp(x: Array, start: float, end: float) -> Array:
    """A rising trend: scale x so its typical daily p99 goes linearly from ``start`` to ``end``."""
    level = np.linspace(start, end, x.size)
    return np.minimum(x / float(np.median(daily(x, 0.99))) * level, 100.0)


def weekly_shape(x: Array, peaks: Array) -> Array:
    """Scale each day of x so that its p99 becomes ``peaks[day]``."""
    days = x.reshape(DEMO_DAYS, PER_DAY)
    factors = peaks / np.nanquantile(days, 0.99, axis=1)
    return np.minimum(days * factors[:, None], 100.0).reshape(-1)


def tile_days(days: Sequence[Array]) -> Array:
    return np.concatenate([np.asarray(d, dtype=np.float64) for d in days])


# --------------------------------------------------------------------------------------------------------------
# Traces: each loader puts a real trace on the demo's 5-minute grid (NaN where the trace has no sample)


@dataclass
class Piece:
    """A window of one trace field on the demo grid, with where it came from."""

    values: Array
    source: str


def _grid(bins: Array, values: Array, size: int) -> Array:
    out = np.full(size, np.nan)
    keep = (bins >= 0) & (bins < size)
    out[bins[keep]] = values[keep]
    return out


def _fill_gaps(x: Array) -> Array:
    return pd.Series(x).interpolate(limit_direction="both").to_numpy()


class Bitbrains:
    """GWA-T-12 Bitbrains Rnd, July 2013: 5-minute CPU, memory, disk and network of 125 VMs.

    2013-07-01 and 2026-11-02 are both Mondays, so week ``w`` of the trace maps onto the demo window weekday
    for weekday (the VMs' own office-hours and weekend shape is kept).
    """

    BASE = 1372636800  # 2013-07-01T00:00Z
    COLUMNS = ("ts", "cores", "cap_mhz", "use_mhz", "cpu", "mem_cap_kb", "mem_use_kb", "disk_read", "disk_write",
               "net_in", "net_out")
    FIELDS = ("cpu", "memory", "net_in", "net_out", "disk_read", "disk_write")  # %, %, KB/s ...

    def __init__(self, path: Path) -> None:
        self.vms: dict[int, dict[str, Array]] = {}
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if not member.name.endswith(".csv"):
                    continue
                raw = archive.extractfile(member)
                assert raw is not None
                text = raw.read().replace(b";\t", b";")
                frame = pd.read_csv(io.BytesIO(text), sep=";", header=0, names=list(self.COLUMNS))
                if frame["cores"].median() <= 0:
                    continue  # VMs that report no provisioned cores
                bins = ((frame["ts"].to_numpy() - self.BASE) // STEP_S).astype(np.int64)
                cap = frame["mem_cap_kb"].to_numpy()
                with np.errstate(divide="ignore", invalid="ignore"):
                    memory = np.where(cap > 0, 100.0 * frame["mem_use_kb"].to_numpy() / cap, np.nan)
                memory[memory > 100] = np.nan  # accounting glitches: usage above the provisioned size
                columns = {"cpu": frame["cpu"].to_numpy(), "memory": memory}
                for name in ("net_in", "net_out", "disk_read", "disk_write"):
                    columns[name] = frame[name].to_numpy()
                vm = int(Path(member.name).stem)
                self.vms[vm] = {k: _grid(bins, v.astype(np.float64), 30 * PER_DAY) for k, v in columns.items()}

    def window(self, vm: int, week: int, name: str) -> Piece:
        start = week * 7 * PER_DAY
        first = pd.Timestamp(self.BASE + start * STEP_S, unit="s")
        last = first + pd.Timedelta(days=DEMO_DAYS - 1)
        return Piece(self.vms[vm][name][start:start + BINS].copy(),
                     f"Bitbrains Rnd VM {vm} ({first:%Y-%m-%d}..{last:%m-%d})")

    def windows(self) -> list[tuple[int, int]]:
        return [(vm, week) for vm in sorted(self.vms) for week in (0, 1, 2)]


class Google:
    """Google cluster 2011 pseudo-VMs: CPU and memory %, one 24-hour file per day for 10 days."""

    def __init__(self, path: Path) -> None:
        files: dict[str, dict[int, Array]] = {}
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                stem = Path(member.name).name
                if not member.isfile() or not stem.startswith("vm_"):
                    continue
                job, day = stem.rsplit("_", 1)
                raw = archive.extractfile(member)
                assert raw is not None
                files.setdefault(job, {})[int(day)] = np.loadtxt(raw, ndmin=2)
        self.jobs = {job: np.concatenate([days[d] for d in range(1, 11)])
                     for job, days in sorted(files.items()) if sorted(days) == list(range(1, 11))
                     and all(len(v) == PER_DAY for v in days.values())}

    def window(self, job: str, column: int) -> Piece:
        """Days 1-10 of the trace, then days 4-7 again (a one-week lag) to fill 14 days."""
        data = self.jobs[job][:, column].reshape(10, PER_DAY)
        order = [d if d < 10 else d - 7 for d in range(DEMO_DAYS)]
        return Piece(tile_days([data[d] for d in order]), f"Google 2011 {job} (days 1-10, then 4-7)")


class PlanetLab:
    """PlanetLab CoMon CPU % (no memory, no network): one file per VM per day, 10 days in March-April 2011."""

    def __init__(self, path: Path) -> None:
        per_day: dict[str, dict[str, Array]] = {}
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if not member.isfile() or len(parts) < 3:
                    continue
                raw = archive.extractfile(member)
                assert raw is not None
                per_day.setdefault(parts[-1], {})[parts[-2]] = np.loadtxt(raw)
        dates = sorted({d for days in per_day.values() for d in days})
        self.vms = {vm: days for vm, days in sorted(per_day.items())
                    if len(days) == len(dates) and all(len(v) == PER_DAY for v in days.values())}
        by_weekday: dict[int, list[str]] = {}
        for date in dates:
            by_weekday.setdefault(pd.Timestamp(date).weekday(), []).append(date)
        self.by_weekday = by_weekday

    def window(self, vm: str) -> Piece:
        """Each demo day takes the trace day with the same weekday (first, then second occurrence)."""
        days = []
        for d in range(DEMO_DAYS):
            choices = self.by_weekday[d % 7]
            days.append(self.vms[vm][choices[min(d // 7, len(choices) - 1)]])
        return Piece(tile_days(days), f"PlanetLab {vm} (10 days of 2011-03/04, weekday-matched)")


class Azure:
    """Azure Public Dataset V1 (2017): mean CPU % per 5 minutes of 100 VMs over ~27.8 days."""

    def __init__(self, path: Path) -> None:
        frame = pd.read_csv(path)
        self.vms = {str(c): frame[c].to_numpy(dtype=np.float64) for c in frame.columns if c != "timestamp"}

    def window(self, vm: str, start_day: int) -> Piece:
        start = start_day * PER_DAY
        return Piece(self.vms[vm][start:start + BINS].copy(),
                     f"Azure V1 VM {vm} (days {start_day + 1}-{start_day + DEMO_DAYS})")


class Alibaba2018:
    """Alibaba cluster-trace-v2018 machine_usage: 8 days of CPU, memory and network of colocated hosts."""

    def __init__(self, path: Path) -> None:
        frame = pd.read_csv(path, header=None, names=["machine", "t", "cpu", "memory", "gps", "mkpi", "net_in",
                                                        "net_out", "disk"])
        frame["bin"] = frame["t"] // STEP_S
        means = frame.groupby(["machine", "bin"])[["cpu", "memory", "net_in", "net_out"]].mean()
        self.machines: dict[str, dict[str, Array]] = {}
        for machine, part in means.groupby(level=0):
            bins = part.index.get_level_values(1).to_numpy()
            if bins.min() > PER_DAY // 4 or bins.max() < 8 * PER_DAY - PER_DAY // 4:
                continue  # machines that are not in the sample for the whole 8 days
            self.machines[str(machine)] = {c: _fill_gaps(_grid(bins, part[c].to_numpy(), 8 * PER_DAY))
                                           for c in part.columns}

    def window(self, machine: str, name: str) -> Piece:
        """The 8 trace days, then days 2-7 again (a one-week lag) to fill 14 days."""
        data = self.machines[machine][name].reshape(8, PER_DAY)
        order = [d if d < 8 else d - 7 for d in range(DEMO_DAYS)]
        return Piece(tile_days([data[d] for d in order]), f"Alibaba 2018 {machine} (8 days, then days 2-7)")


class GenTD26:
    """Alibaba GenTD26 Stable-Diffusion serving pods: GPU duty cycle %, GPU memory bytes, container memory.

    Each pod covers 01:12-24:00 of one day at 1 minute; it is averaged to 5 minutes and its 00:00-01:10 gap is
    filled with the same pod's last 70 minutes. A 14-day series takes one pod-day per day, rotating through a
    group of pods that behave alike, so the day-to-day variation is real too.
    """

    def __init__(self, folder: Path) -> None:
        tables = {name: self._read(folder / f"pod_{name}_anon.tar.gz")
                  for name in ("gpu_duty_cycle", "gpu_memory_used_bytes", "memory_util")}
        day_end = max(t["timestamp_anon"].max() for t in tables.values())
        counts = tables["gpu_duty_cycle"].groupby("container_ip").size()
        pods = sorted(set(counts[counts >= 1200].index) & set(tables["gpu_memory_used_bytes"]["container_ip"])
                      & set(tables["memory_util"]["container_ip"]))
        self.days: dict[str, dict[str, Array]] = {p: {} for p in pods}
        for name, table in tables.items():
            table = table[table["container_ip"].isin(pods)]
            bins = ((table["timestamp_anon"] - (day_end - 86400)) // STEP_S).clip(upper=PER_DAY - 1).astype(int)
            means = table.groupby([table["container_ip"], bins])["value"].mean()
            for pod, part in means.groupby(level=0):
                x = _grid(part.index.get_level_values(1).to_numpy(), part.to_numpy(), PER_DAY)
                first = int(np.argmax(np.isfinite(x)))  # the trace starts at 01:12: fill 00:00-01:10
                x[:first] = x[PER_DAY - first:]
                self.days[str(pod)][name] = _fill_gaps(x)
        p99 = {p: quantile(d["gpu_duty_cycle"], 0.99) for p, d in self.days.items()}
        self.groups = {"idle": [p for p in pods if p99[p] < 2.0],
                       "moderate": [p for p in pods if 15.0 <= p99[p] <= 45.0],
                       "busy": [p for p in pods if p99[p] > 45.0]}

    @staticmethod
    def _read(path: Path) -> pd.DataFrame:
        with tarfile.open(path) as archive:
            member = next(m for m in archive.getmembers() if m.name.endswith(".csv"))
            raw = archive.extractfile(member)
            assert raw is not None
            return pd.read_csv(raw)

    def tile(self, group: str, order: Sequence[int], name: str) -> Piece:
        """One pod-day per demo day: day d takes pod ``order[d]`` of the group."""
        pods = self.groups[group]
        chosen = [pods[i] for i in order]
        return Piece(tile_days([self.days[p][name] for p in chosen]),
                     f"GenTD26 {group} pods {chosen[0][:8]}.. ({len(set(chosen))} pods, one pod-day per day)")


@dataclass
class Traces:
    bitbrains: Bitbrains
    google: Google
    planetlab: PlanetLab
    azure: Azure
    alibaba: Alibaba2018
    gpu: GenTD26

    @classmethod
    def load(cls, shared: Path) -> Traces:
        base = shared / "data" / "traces"
        return cls(
            bitbrains=Bitbrains(base / "bitbrains_rnd" / "bitbrains_rnd_2013-07_125vms.tar.xz"),
            google=Google(base / "google_gcd2011" / "GCD_VMs.tar.gz"),
            planetlab=PlanetLab(base / "planetlab" / "planetlab_2011_10days_11746series.tar.xz"),
            azure=Azure(base / "azure_v1" / "azure_v1_cpu_avg_100vms_5min.csv.gz"),
            alibaba=Alibaba2018(base / "alibaba2018" / "machine_usage_sample_16machines.csv.gz"),
            gpu=GenTD26(base / "alibaba_gentd26_gpu"),
        )


# --------------------------------------------------------------------------------------------------------------
# Trace pools: which windows suit which scenario (decided from their own statistics)


class Pool:
    """A deterministic, shuffled supply of candidate traces.

    Pools that share a ``taken`` set hand out each trace once while they can (so two resources do not show
    the same series), and only then reuse them in turn.
    """

    def __init__(self, name: str, items: Sequence[Any], rng: np.random.Generator,
                 taken: set[Any] | None = None) -> None:
        if not items:
            raise RuntimeError(f"no trace fits the {name} pool")
        self.items = [items[i] for i in rng.permutation(len(items))]
        self.taken: set[Any] = taken if taken is not None else set()
        self.used = 0

    def take(self) -> Any:
        fresh = [item for item in self.items if item not in self.taken]
        item = fresh[0] if fresh else self.items[self.used % len(self.items)]
        self.taken.add(item)
        self.used += 1
        return item


def _coverage(x: Array) -> float:
    return float(np.isfinite(x).mean())


def bitbrains_pools(bb: Bitbrains, rng: np.random.Generator) -> dict[str, Pool]:
    """Classify every (VM, week) window of Bitbrains by what its CPU, memory, disk and network look like."""
    pools: dict[str, list[tuple[int, int]]] = {k: [] for k in ("idle", "busy", "steady_memory", "network", "disk",
                                                                "sustained_disk", "quiet_disk")}
    for vm, week in bb.windows():
        w = {k: bb.window(vm, week, k).values for k in Bitbrains.FIELDS}
        if min(_coverage(w["cpu"]), _coverage(w["memory"])) < 0.9:
            continue
        c50, c99, cmax = (quantile(w["cpu"], q) for q in (0.5, 0.99, 1.0))
        m50, m99, mmax = (quantile(w["memory"], q) for q in (0.5, 0.99, 1.0))
        clean_memory = m50 > 0.5 and mmax <= 2.5 * m99
        if c50 > 0 and c99 <= 6 and cmax <= 8 * c99 and clean_memory:
            pools["idle"].append((vm, week))
        if c50 >= 0.3 and 1.5 * c50 <= c99 <= 100 and cmax <= 5 * c99 and clean_memory:
            pools["busy"].append((vm, week))
        if c99 <= 3 and m50 >= 20 and mmax <= 1.6 * m50:
            pools["steady_memory"].append((vm, week))
        net99 = [quantile(w[k], 0.99) for k in ("net_in", "net_out")]
        if min(net99) > 1 and max(quantile(w[k], 1.0) / n for k, n in zip(("net_in", "net_out"), net99,
                                                                           strict=True)) <= 20:
            pools["network"].append((vm, week))
        disk = w["disk_read"] + w["disk_write"]
        if quantile(disk, 0.99) > 20 and quantile(disk, 0.5) > 0:
            pools["disk"].append((vm, week))
        if quantile(disk, 0.99) > 20 and quantile(disk, 0.5) > 0.5 * quantile(disk, 0.99):
            pools["sustained_disk"].append((vm, week))
        if 0 < quantile(disk, 0.99) < 5:
            pools["quiet_disk"].append((vm, week))
    cpu_memory: set[Any] = set()
    disk: set[Any] = set()
    shared = {"idle": cpu_memory, "busy": cpu_memory, "steady_memory": cpu_memory, "disk": disk,
              "sustained_disk": disk, "quiet_disk": disk}
    return {k: Pool(f"Bitbrains {k}", v, rng, shared.get(k)) for k, v in pools.items()}


def azure_pools(az: Azure, rng: np.random.Generator) -> dict[str, Pool]:
    """Azure windows (one per VM) with a steady daily peak (for trends) or a strong daily shape (seasonality)."""
    steady: list[tuple[str, int]] = []
    diurnal: list[tuple[str, int]] = []
    for vm in sorted(az.vms):
        for start_day in (0, 7, 13):
            x = az.window(vm, start_day).values
            peaks = daily(x, 0.99)
            spread = peaks.std() / peaks.mean()
            hours = np.nanmean(x.reshape(DEMO_DAYS, 24, 12), axis=(0, 2))
            if quantile(x, 0.5) < 1:
                continue
            level = peaks / np.median(peaks)
            if (0.03 <= spread < 0.08 and 0.3 <= quantile(x, 0.5) / quantile(x, 0.99) <= 0.8
                    and abs(level[:3].mean() - 1) < 0.05 and abs(level[-3:].mean() - 1) < 0.05
                    and vm not in {v for v, _ in steady}):
                steady.append((vm, start_day))
            if hours.max() >= 1.4 * hours.min() and spread < 0.25 and vm not in {v for v, _ in diurnal}:
                diurnal.append((vm, start_day))
    return {"steady": Pool("Azure steady", steady, rng), "diurnal": Pool("Azure diurnal", diurnal, rng)}


# --------------------------------------------------------------------------------------------------------------
# The fleet


@dataclass
class Resource:
    row: dict[str, Any]
    metrics: dict[str, tuple[int, Array]]  # metric -> (first bin, values; NaN = no sample)
    sources: list[str]  # where each series came from and how it was transformed


class FleetBuilder:
    def __init__(self, traces: Traces, catalog: pd.DataFrame) -> None:
        self.rng = np.random.default_rng(SEED)
        self.t = traces
        self.bb = bitbrains_pools(traces.bitbrains, self.rng)
        self.az = azure_pools(traces.azure, self.rng)
        self.google = Pool("Google", [j for j in traces.google.jobs
                                      if quantile(traces.google.jobs[j][:, 0], 0.99)
                                      >= 1.1 * quantile(traces.google.jobs[j][:, 0], 0.5)], self.rng)
        self.planetlab = Pool("PlanetLab", [v for v in traces.planetlab.vms
                                            if quantile(traces.planetlab.window(v).values, 0.5) > 0], self.rng)
        self.alibaba = Pool("Alibaba 2018", [m for m in traces.alibaba.machines
                                             if quantile(traces.alibaba.machines[m]["cpu"], 0.5) > 20], self.rng)
        self.offered = {(r.instance_type, r.region_code) for r in catalog.itertuples()}
        self.ids: set[str] = set()
        self.resources: list[Resource] = []
        self.instances: list[Resource] = []

    # ---- helpers ----------------------------------------------------------------------------------------------

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def new_id(self, prefix: str) -> str:
        while True:
            candidate = prefix + "0" + "".join(f"{d:x}" for d in self.rng.integers(0, 16, 16))
            if candidate not in self.ids:
                self.ids.add(candidate)
                return candidate

    def tags(self, name: str, scenario: str, team: str | None = None, env: str | None = None,
             **extra: str) -> dict[str, str]:
        team = team or str(self.rng.choice(sorted(TEAMS)))
        env = env or str(self.rng.choice(["prod", "staging", "dev"], p=[0.6, 0.25, 0.15]))
        return {"Name": name, "team": team, "cost-centre": TEAMS.get(team, "CC-0000"), "env": env,
                "scenario": scenario, **extra}

    def placement(self, env: str, eu_share: float = 0.25) -> tuple[str, str]:
        home = 0 if env == "prod" else 1
        account = ACCOUNTS[home if self.rng.random() < 0.8 else 1 - home]
        region = REGIONS[1] if self.rng.random() < eu_share else REGIONS[0]
        return account, region

    def add(self, row: dict[str, Any], metrics: dict[str, tuple[int, Array]], sources: list[str]) -> Resource:
        resource = Resource(row, metrics, sources)
        self.resources.append(resource)
        return resource

    def network(self, target_in: float, first: int = 0) -> tuple[dict[str, tuple[int, Array]], str]:
        """network_in/out (bytes/s) from a Bitbrains VM's network, scaled so network_in's p99 is target_in."""
        vm, week = self.bb["network"].take()
        net_in = self.t.bitbrains.window(vm, week, "net_in")
        net_out = self.t.bitbrains.window(vm, week, "net_out").values
        out_target = target_in * 10 ** self.uniform(-0.5, 0.5)
        return ({"network_in": (first, linear_scale(net_in.values[first:], 0.99, target_in, cap=NIC_BYTES)),
                 "network_out": (first, linear_scale(net_out[first:], 0.99, out_target, cap=NIC_BYTES))},
                f"network: {net_in.source}, linear scale to p99 in {target_in / 1e3:,.1f} kB/s")

    def bitbrains_cpu_memory(self, pool: str, cpu99: float, cpu50_share: tuple[float, float], mem_max: float,
                             mem50_share: tuple[float, float], first: int = 0) -> tuple[
            dict[str, tuple[int, Array]], str]:
        """cpu and memory of one Bitbrains VM from ``first`` on, power-mapped to the targets."""
        vm, week = self.bb[pool].take()
        cpu = self.t.bitbrains.window(vm, week, "cpu")
        memory = self.t.bitbrains.window(vm, week, "memory").values[first:]
        c50 = cpu99 * self.uniform(*cpu50_share)
        m50 = mem_max * self.uniform(*mem50_share)
        return ({"cpu": (first, power_map(cpu.values[first:], 0.5, c50, 0.99, cpu99)),
                 "memory": (first, power_map(memory, 0.5, m50, 1.0, mem_max))},
                f"cpu+memory: {cpu.source}, power map cpu p50/p99 -> {c50:.1f}/{cpu99:.1f}, "
                f"memory p50/max -> {m50:.1f}/{mem_max:.1f}")

    # ---- EC2 CPU instances ------------------------------------------------------------------------------------

    def ec2(self, scenario: str, name: str, instance_type: str, metrics: dict[str, tuple[int, Array]],
            sources: list[str], tags: dict[str, str] | None = None,
            where: tuple[str, str] | None = None) -> Resource:
        tags = tags or self.tags(name, scenario)
        account, region = where or self.placement(tags["env"])
        if (instance_type, region) not in self.offered:
            raise RuntimeError(f"{instance_type} is not offered in {region}")
        row = {"resource_id": self.new_id("i-"), "kind": "ec2_instance", "account": account, "region": region,
               "name": tags["Name"], "instance_type": instance_type, "count": 1, "lifecycle": "on-demand",
               "state": "running", "tags": tags}
        resource = self.add(row, metrics, sources)
        self.instances.append(resource)
        return resource

    def idle(self, count: int) -> None:
        names = ["legacy-reporting", "poc-sandbox", "old-jenkins-agent", "migration-bastion", "test-runner",
                 "demo-env", "ftp-gateway", "tmp-debug"]
        types = ["t3.large", "m5.large", "m5.xlarge", "c5.xlarge", "m6i.large", "r5.large", "t3.xlarge",
                 "c6i.large", "m5.2xlarge", "r6i.large"]
        for i in range(count):
            # Every other box is idle as AWS defines it (peak CPU < 5 %, under 5 MB of network a day, memory low);
            # the rest are quiet but not idle (a spike, or some traffic). The random draws are the same for both,
            # so the resources built after these are unchanged.
            quiet = i % 2 == 0
            cpu99, mem_max = self.uniform(0.6, 1.8), self.uniform(12, 35) * (0.7 if quiet else 1.0)
            metrics, source = self.bitbrains_cpu_memory("idle", cpu99, (0.3, 0.6), mem_max, (0.6, 0.85))
            net, net_source = self.network(self.uniform(150, 600) / (20 if quiet else 1))
            if quiet:
                first, cpu = metrics["cpu"]
                metrics["cpu"] = (first, np.minimum(cpu, IDLE_CPU_PEAK))
                source += f", capped at {IDLE_CPU_PEAK:g} %"
            name = f"{names[i % len(names)]}-{i:02d}"
            self.ec2("idle", name, types[i % len(types)], metrics | net, [source, net_source])

    def over_provisioned(self, count: int) -> None:
        names = ["api-gateway", "web-frontend", "search-indexer", "order-service", "auth-service", "catalog-api",
                 "report-builder", "feature-store-api", "etl-scheduler", "kafka-connect"]
        types = ["m5.4xlarge", "c5.4xlarge", "r5.2xlarge", "m6i.8xlarge", "c6i.4xlarge", "m5.2xlarge",
                 "r6i.4xlarge", "c6i.8xlarge", "m6i.4xlarge", "r5.4xlarge", "m5.8xlarge", "t3.2xlarge"]
        for i in range(count):
            metrics, source = self.bitbrains_cpu_memory("busy", self.uniform(8, 35), (0.15, 0.45),
                                                        self.uniform(15, 50), (0.55, 0.85))
            net, net_source = self.network(10 ** self.uniform(5, 7))
            name = f"{names[i % len(names)]}-{i:02d}"
            if i < 3:  # one stateless Auto Scaling group (a Spot candidate)
                tags = self.tags(f"web-asg-{i}", "over_provisioned", team="web", env="prod",
                                 **{"aws:autoscaling:groupName": "web-frontend-asg"})
                self.ec2("over_provisioned", tags["Name"], "m5.2xlarge", metrics | net, [source, net_source], tags,
                         where=(ACCOUNTS[0], REGIONS[0]))
                continue
            # a fixed team for the fourth (it once held a test string; kept fixed so later random draws are unchanged)
            tags = self.tags(name, "over_provisioned", team="analytics" if i == 3 else None)
            self.ec2("over_provisioned", name, types[i % len(types)], metrics | net, [source, net_source], tags)

    def right_sized(self, count: int) -> None:
        names = ["checkout", "pricing-engine", "session-cache", "geo-lookup", "ads-ranker", "image-resizer",
                 "batch-scorer"]
        types = ["m5.xlarge", "c5.2xlarge", "r5.xlarge", "m6i.2xlarge", "c6i.xlarge", "t3.xlarge", "m5.large",
                 "r6i.2xlarge"]
        for i in range(count):
            job = self.google.take()
            cpu = self.t.google.window(job, 0)
            memory = self.t.google.window(job, 1)
            c99, m_max = self.uniform(60, 80), self.uniform(55, 80)
            c50, m50 = c99 * self.uniform(0.45, 0.7), m_max * self.uniform(0.7, 0.9)
            metrics = {"cpu": (0, power_map(cpu.values, 0.5, c50, 0.99, c99)),
                       "memory": (0, power_map(memory.values, 0.5, m50, 1.0, m_max))}
            net, net_source = self.network(10 ** self.uniform(5.5, 7))
            name = f"{names[i % len(names)]}-{i:02d}"
            extra = {"workload": "batch"} if i < 2 else {}
            tags = self.tags(name, "right_sized", **extra)
            source = (f"cpu+memory: {cpu.source}, power map cpu p50/p99 -> {c50:.1f}/{c99:.1f}, "
                      f"memory p50/max -> {m50:.1f}/{m_max:.1f}")
            self.ec2("right_sized", name, types[i % len(types)], metrics | net, [source, net_source], tags)

    def under_provisioned(self, count: int) -> None:
        types = ["c5.large", "m5.large", "t3.large", "c6i.xlarge", "r5.large", "m6i.xlarge"]
        for i in range(count):
            machine = self.alibaba.take()
            cpu = self.t.alibaba.window(machine, "cpu")
            memory = self.t.alibaba.window(machine, "memory").values
            if i == 0:  # CPU pinned at the capacity (its demand is censored: ec2-underprovisioned)
                c99, m_max = self.uniform(99.5, 100), self.uniform(60, 85)
            elif i % 2 == 0:  # CPU-bound, running hot below the wall (ec2-running-hot)
                c99, m_max = self.uniform(93, 98.5), self.uniform(60, 85)
            else:  # memory-bound
                c99, m_max = self.uniform(55, 85), self.uniform(94, 99)
            c50, m50 = c99 * self.uniform(0.55, 0.75), m_max - self.uniform(4, 10)
            metrics = {"cpu": (0, power_map(cpu.values, 0.5, c50, 0.99, c99)),
                       "memory": (0, power_map(memory, 0.5, m50, 1.0, m_max))}
            target = 10 ** self.uniform(6, 7.5)
            net_in = self.t.alibaba.window(machine, "net_in").values
            net_out = self.t.alibaba.window(machine, "net_out").values
            metrics["network_in"] = (0, linear_scale(net_in, 0.99, target, cap=NIC_BYTES))
            metrics["network_out"] = (0, linear_scale(net_out, 0.99, target * self.uniform(0.5, 1.5), cap=NIC_BYTES))
            source = (f"cpu+memory+network: {cpu.source}, power map cpu p50/p99 -> {c50:.1f}/{c99:.1f}, "
                      f"memory p50/max -> {m50:.1f}/{m_max:.1f}; network linear scale")
            self.ec2("under_provisioned", f"hot-worker-{i:02d}", types[i % len(types)], metrics, [source])

    def growing(self, count: int) -> None:
        types = ["m5.xlarge", "c6i.2xlarge", "m6i.xlarge", "c5.xlarge", "r5.xlarge", "m5.2xlarge"]
        for i in range(count):
            vm, start_day = self.az["steady"].take()
            cpu = self.t.azure.window(vm, start_day)
            start, end = self.uniform(25, 35), self.uniform(55, 65)
            job = self.google.take()
            memory = self.t.google.window(job, 1)
            m_max = self.uniform(40, 60)
            m50 = m_max * self.uniform(0.7, 0.9)
            metrics = {"cpu": (0, ramp(cpu.values, start, end)),
                       "memory": (0, power_map(memory.values, 0.5, m50, 1.0, m_max))}
            net, net_source = self.network(10 ** self.uniform(5.5, 7))
            sources = [f"cpu: {cpu.source}, multiplied by a linear ramp so its daily p99 rises "
                       f"{start:.0f} -> {end:.0f} %",
                       f"memory: {memory.source}, power map p50/max -> {m50:.1f}/{m_max:.1f}", net_source]
            self.ec2("growing", f"user-events-{i:02d}", types[i % len(types)], metrics | net, sources)

    def weekly_seasonal(self, count: int) -> None:
        types = ["m5.2xlarge", "c5.2xlarge", "m6i.2xlarge", "c6i.2xlarge", "m5.xlarge", "r6i.xlarge"]
        for i in range(count):
            vm, start_day = self.az["diurnal"].take()
            cpu = self.t.azure.window(vm, start_day)
            weekday = np.arange(DEMO_DAYS) % 7
            peaks = np.where(weekday >= 5, self.rng.uniform(10, 20, DEMO_DAYS),
                             np.where(weekday == 0, self.rng.uniform(80, 85, DEMO_DAYS),
                                      self.rng.uniform(68, 78, DEMO_DAYS)))
            job = self.google.take()
            memory = self.t.google.window(job, 1)
            m_max = self.uniform(40, 65)
            m50 = m_max * self.uniform(0.7, 0.9)
            metrics = {"cpu": (0, weekly_shape(cpu.values, peaks)),
                       "memory": (0, power_map(memory.values, 0.5, m50, 1.0, m_max))}
            net, net_source = self.network(10 ** self.uniform(5.5, 7))
            sources = [f"cpu: {cpu.source}, each day scaled so its p99 is a weekday peak (Mon 80-85, Tue-Fri "
                       f"68-78) or a weekend peak (10-20)",
                       f"memory: {memory.source}, power map p50/max -> {m50:.1f}/{m_max:.1f}", net_source]
            self.ec2("weekly_seasonal", f"office-portal-{i:02d}", types[i % len(types)], metrics | net, sources)

    def memory_bound(self, count: int) -> None:
        types = ["m5.2xlarge", "c5.4xlarge", "m6i.4xlarge", "c6i.2xlarge", "m5.xlarge", "c5.2xlarge"]
        for i in range(count):
            c99, m_max = self.uniform(8, 12), self.uniform(86, 95)
            metrics, source = self.bitbrains_cpu_memory("steady_memory", c99, (0.3, 0.5), m_max, (0.85, 0.93))
            net, net_source = self.network(10 ** self.uniform(5, 6.5))
            self.ec2("memory_bound", f"jvm-cache-{i:02d}", types[i % len(types)], metrics | net,
                     [source, net_source])

    def no_memory_data(self, count: int) -> None:
        types = ["m5.xlarge", "c5.2xlarge", "m6i.2xlarge", "r5.xlarge", "c6i.xlarge", "t3.xlarge", "m5.2xlarge"]
        for i in range(count):
            vm = self.planetlab.take()
            cpu = self.t.planetlab.window(vm)
            c99 = self.uniform(5, 30)
            c50 = c99 * self.uniform(0.25, 0.55)
            net, net_source = self.network(10 ** self.uniform(5, 6.5))
            metrics = {"cpu": (0, power_map(cpu.values, 0.5, c50, 0.99, c99))} | net
            sources = [f"cpu: {cpu.source}, power map p50/p99 -> {c50:.1f}/{c99:.1f}; no memory (no agent)",
                       net_source]
            self.ec2("no_memory_data", f"no-agent-{i:02d}", types[i % len(types)], metrics, sources)

    def previous_generation(self, count: int) -> None:
        types = ["m4.xlarge", "m4.2xlarge", "c4.2xlarge", "c4.4xlarge", "r4.xlarge", "r4.2xlarge", "m4.4xlarge",
                 "c4.xlarge"]
        for i in range(count):
            metrics, source = self.bitbrains_cpu_memory("busy", self.uniform(40, 70), (0.3, 0.55),
                                                        self.uniform(40, 70), (0.6, 0.85))
            net, net_source = self.network(10 ** self.uniform(5.5, 7))
            self.ec2("previous_generation", f"erp-legacy-{i:02d}", types[i % len(types)], metrics | net,
                     [source, net_source])

    def little_data(self, count: int) -> None:
        types = ["m5.xlarge", "c6i.large", "r6i.xlarge"]
        for i in range(count):
            hours = self.uniform(12, 24)
            first = BINS - int(hours * 12)
            metrics, source = self.bitbrains_cpu_memory("busy", self.uniform(20, 60), (0.3, 0.6),
                                                        self.uniform(30, 60), (0.6, 0.85), first=first)
            net, net_source = self.network(10 ** self.uniform(5, 6.5), first=first)
            self.ec2("little_data", f"new-service-{i:02d}", types[i % len(types)], metrics | net,
                     [f"only the last {hours:.1f} h (launched late)", source, net_source])

    # ---- EC2 GPU instances ------------------------------------------------------------------------------------

    def pod_order(self, group: str) -> list[int]:
        """A random order of a GenTD26 group's pods for the 14 days (repeating if the group is small)."""
        return [int(i) for i in np.resize(self.rng.permutation(len(self.t.gpu.groups[group])), DEMO_DAYS)]

    def gpu_series(self, group: str, gpu99: float, gmem_max: float, mem_max: float) -> tuple[
            dict[str, tuple[int, Array]], str, Piece]:
        """gpu, gpu_memory and memory from one GenTD26 pod group (and the raw duty cycle, as a load)."""
        order = self.pod_order(group)
        gpu = self.t.gpu.tile(group, order, "gpu_duty_cycle")
        gmem = self.t.gpu.tile(group, order, "gpu_memory_used_bytes").values
        memory = self.t.gpu.tile(group, order, "memory_util").values
        q = 1.0 if group == "idle" else 0.99  # the idle pods are zero at p99: scale their max instead
        m50 = mem_max * self.uniform(0.75, 0.9)
        return ({"gpu": (0, linear_scale(gpu.values, q, gpu99, cap=100.0)),
                 "gpu_memory": (0, power_map(gmem, 0.5, gmem_max * self.uniform(0.75, 0.95), 1.0, gmem_max)),
                 "memory": (0, power_map(memory, 0.5, m50, 1.0, mem_max))},
                f"gpu+gpu_memory+memory: {gpu.source}, gpu linear scale to {'max' if q == 1 else 'p99'} "
                f"{gpu99:.1f}, gpu_memory max {gmem_max:.1f}, memory max {mem_max:.1f}", gpu)

    def bitbrains_cpu(self, pool: str, cpu99: float) -> tuple[Array, str]:
        vm, week = self.bb[pool].take()
        cpu = self.t.bitbrains.window(vm, week, "cpu")
        c50 = cpu99 * self.uniform(0.3, 0.5)
        return (power_map(cpu.values, 0.5, c50, 0.99, cpu99),
                f"cpu: {cpu.source}, power map p50/p99 -> {c50:.1f}/{cpu99:.1f}")

    def gpu_instances(self) -> None:
        plan = [("gpu_idle", "idle", t, (0.4, 2.5), (15, 40), (1, 5)) for t in
                ("g4dn.xlarge", "g5.2xlarge", "p3.2xlarge")]
        plan += [("gpu_underused", "moderate", t, (5, 25), (10, 35), (5, 20)) for t in
                 ("g4dn.12xlarge", "g5.12xlarge", "p3.8xlarge", "g4dn.xlarge", "g5.2xlarge", "p3.2xlarge")]
        plan += [("gpu_busy", "busy", t, (70, 95), (55, 90), (30, 60)) for t in
                 ("g4dn.xlarge", "g5.2xlarge", "p3.2xlarge", "g5.12xlarge")]
        # GPU pinned at the capacity (censored: ec2-gpu-saturated); the other busy GPUs run hot below the wall
        plan += [("gpu_busy", "busy", "g4dn.12xlarge", (99.5, 100), (55, 90), (30, 60))]
        for i, (scenario, group, instance_type, gpu99, gmem, cpu99) in enumerate(plan):
            metrics, source, _ = self.gpu_series(group, self.uniform(*gpu99), self.uniform(*gmem),
                                                 self.uniform(30, 70))
            cpu, cpu_source = self.bitbrains_cpu("idle" if group == "idle" else "busy", self.uniform(*cpu99))
            net, net_source = self.network(10 ** self.uniform(4, 5) if group == "idle" else 10 ** self.uniform(6, 7.5))
            tags = self.tags(f"{scenario.replace('_', '-')}-{i:02d}", scenario,
                             team=str(self.rng.choice(["ml-platform", "research", "recommendations"])))
            self.ec2(scenario, tags["Name"], instance_type, metrics | {"cpu": (0, cpu)} | net,
                     [source, cpu_source, net_source], tags)

    # ---- EBS volumes ------------------------------------------------------------------------------------------

    def volume(self, scenario: str, volume_type: str, size: int, iops: float, throughput: float,
               target_iops: float, attached: Resource | None, final_balance: float | None = None,
               quiet: bool = False) -> None:
        """An EBS volume; ``quiet``: an attached volume that only sees stray I/O (scaled on its maximum)."""
        quiet = quiet or attached is None
        pool = "quiet_disk" if quiet else "sustained_disk" if final_balance is not None else "disk"
        read_kib, write_kib = float(self.rng.choice([16, 32, 64, 128])), float(self.rng.choice([8, 16, 32]))
        while True:
            vm, week = self.bb[pool].take()
            read = self.t.bitbrains.window(vm, week, "disk_read")
            disk = Disk(read.values, self.t.bitbrains.window(vm, week, "disk_write").values, read_kib, write_kib,
                        volume_type, iops, throughput, (0.9, 1.1) if final_balance is not None else (1.0, 1.0))
            if final_balance is None:
                q = 1.0 if quiet else 0.99  # a quiet volume only ever sees stray I/O: its maximum is the target
                scale = target_iops / quantile(disk.unit_iops, q)
                how = f"linear scale to demand {'max' if quiet else 'p99'} {target_iops:,.2f} IOPS"
                break
            scale = disk.drain_scale(final_balance)
            balance = daily(disk.series(scale)["burst_balance"], 0.5)
            if balance[:3].min() >= 80:  # keep traces whose bucket stays full at first, then drains
                how = (f"multiplied by a ramp 0.9 -> 1.1 (a growing database) and scaled so the burst balance "
                       f"ends near {final_balance:.0f} %")
                break
        metrics = {k: (0, v) for k, v in disk.series(scale).items()}
        env = attached.row["tags"]["env"] if attached else "dev"
        name = f"{attached.row['name']}-data" if attached else f"restored-snapshot-{len(self.resources):03d}"
        tags = self.tags(name, scenario, team=attached.row["tags"]["team"] if attached else None, env=env)
        account, region = ((attached.row["account"], attached.row["region"]) if attached
                           else self.placement(env))
        row = {"resource_id": self.new_id("vol-"), "kind": "ebs_volume", "account": account, "region": region,
               "name": name, "count": 1, "lifecycle": "on-demand",
               "state": "in-use" if attached else "available", "tags": tags, "volume_type": volume_type,
               "size_gib": size, "iops": iops, "throughput_mibps": throughput,
               "attached_to": attached.row["resource_id"] if attached else None}
        self.add(row, metrics, [f"I/O: {read.source} disk read/write KB/s as {disk.read_kib:.0f} KiB reads and "
                                f"{disk.write_kib:.0f} KiB writes, {how}, capped at the volume's IOPS and "
                                f"throughput" + ("; burst balance simulated from that I/O" if volume_type == "gp2"
                                                 else "")])

    def volumes(self) -> None:
        hosts = [r for r in self.instances if r.row["tags"]["scenario"] not in ("little_data", "idle")]
        order = iter(self.rng.permutation(len(hosts)))
        for i in range(20):
            size = int(self.rng.choice([50, 100, 200, 250, 500, 750, 1000, 1500, 2000]))
            draining = i < 3
            if draining:
                size = int(self.rng.choice([100, 150, 200, 300]))
            baseline = float(min(16000, max(100, 3 * size)))
            target = min(GP2_BURST_IOPS, baseline * self.uniform(0.1, 0.8))
            self.volume("ebs_gp2_burst_draining" if draining else "ebs_gp2", "gp2", size, baseline,
                        128.0 if size <= 170 else 250.0, target, hosts[next(order)],
                        final_balance=self.uniform(3, 12) if draining else None)
        for _ in range(10):
            iops = float(self.rng.choice([3000, 3000, 3000, 6000, 10000]))
            throughput = float(self.rng.choice([125, 125, 250, 500]))
            self.volume("ebs_gp3", "gp3", int(self.rng.choice([100, 200, 500, 1000, 2000])), iops, throughput,
                        min(iops, 3000) * self.uniform(0.1, 0.6), hosts[next(order)])
        for _ in range(8):
            iops = float(self.rng.choice([5000, 8000, 10000, 12000, 16000, 20000]))
            size = int(max(iops / 50, float(self.rng.choice([200, 500, 1000]))))
            self.volume("ebs_io1_overprovisioned", "io1", size, iops, min(1000.0, iops / 16),
                        iops * self.uniform(0.02, 0.15), hosts[next(order)])
        for i in range(4):
            volume_type = "gp2" if i % 2 == 0 else "gp3"
            size = int(self.rng.choice([100, 500, 1000]))
            iops = float(max(100, 3 * size)) if volume_type == "gp2" else 3000.0
            self.volume("ebs_unattached", volume_type, size, iops, 125.0 if volume_type == "gp3" else 250.0,
                        0.02, None)

    # ---- SageMaker --------------------------------------------------------------------------------------------

    def endpoints(self) -> None:
        # (endpoint, type, count, autoscaling (min, max) or None, accelerator, scenario)
        plan: list[tuple[str, str, int, tuple[int, int] | None, str | None, str]] = [
            ("legacy-churn-model", "ml.m5.xlarge", 1, None, None, "endpoint_idle"),
            ("image-tagger-v1", "ml.g4dn.xlarge", 1, None, None, "endpoint_idle"),
            ("fraud-scoring-eia", "ml.m5.xlarge", 1, None, "ml.eia2.medium", "endpoint_single_instance"),
            ("sentiment-api", "ml.c5.xlarge", 1, None, None, "endpoint_single_instance"),
            ("sd-thumbnailer", "ml.g4dn.xlarge", 1, None, None, "endpoint_single_instance"),
            ("embedding-service", "ml.p3.2xlarge", 2, None, None, "endpoint_underused_gpu"),
            ("reranker-gpu", "ml.g5.2xlarge", 2, (2, 4), None, "endpoint_underused_gpu"),
            ("ocr-extractor", "ml.g4dn.xlarge", 3, None, None, "endpoint_underused_gpu"),
            ("recs-realtime", "ml.m5.xlarge", 3, (2, 6), None, "endpoint_steady"),
            ("search-query-encoder", "ml.m5.large", 2, None, "ml.eia2.medium", "endpoint_steady"),
            ("sd-image-gen", "ml.g5.2xlarge", 4, (2, 8), None, "endpoint_steady"),
            ("ranking-xgb", "ml.c5.2xlarge", 2, (2, 4), None, "endpoint_steady"),
        ]
        targets = {"endpoint_idle": ((0.3, 2.0), (15, 35), (0.5, 2.5), (0, 0)),
                   "endpoint_single_instance": ((30, 60), (40, 70), (40, 70), (50, 300)),
                   "endpoint_underused_gpu": ((5, 20), (20, 45), (5, 20), (5, 60)),
                   "endpoint_steady": ((40, 70), (45, 75), (45, 75), (300, 3000))}
        for i, (endpoint, instance_type, count, scaling, accelerator, scenario) in enumerate(plan):
            cpu99, mem_max, gpu99, calls99 = (self.uniform(*r) for r in targets[scenario])
            is_gpu = instance_type.split(".")[1][0] in "gp"
            idle = scenario == "endpoint_idle"
            load: Piece | None = None
            metrics: dict[str, tuple[int, Array]] = {}
            sources: list[str] = []
            if idle or is_gpu:
                cpu, cpu_source = self.bitbrains_cpu("idle" if idle else "busy", cpu99)
                metrics["cpu"] = (0, cpu)
                sources.append(cpu_source)
            else:  # CPU inference: the load (CPU and invocations) follows an Azure VM with a daily shape
                vm, start_day = self.az["diurnal"].take()
                load = self.t.azure.window(vm, start_day)
                c50 = cpu99 * self.uniform(0.4, 0.6)
                metrics["cpu"] = (0, power_map(load.values, 0.5, c50, 0.99, cpu99))
                sources.append(f"cpu: {load.source}, power map p50/p99 -> {c50:.1f}/{cpu99:.1f}")
            if is_gpu:
                group = "idle" if idle else "moderate" if scenario == "endpoint_underused_gpu" else "busy"
                gpu_metrics, gpu_source, duty = self.gpu_series(
                    group, gpu99, self.uniform(10, 35) if group == "moderate" else self.uniform(30, 80), mem_max)
                metrics |= gpu_metrics
                sources.append(gpu_source)
                load = None if idle else duty
            else:
                job = self.google.take()
                memory = self.t.google.window(job, 1)
                metrics["memory"] = (0, power_map(memory.values, 0.5, mem_max * 0.85, 1.0, mem_max))
                sources.append(f"memory: {memory.source}, power map max -> {mem_max:.1f}")
            if load is None:
                metrics["invocations"] = (0, np.zeros(BINS))
                sources.append("invocations all zero")
            else:
                calls = np.rint(linear_scale(load.values, 0.99, calls99 * count) * 5) / 5
                metrics["invocations"] = (0, calls)
                sources.append(f"invocations/min proportional to the {load.source.split(' (')[0]} load, "
                               f"p99 {calls99 * count:,.0f}/min")
            variant = "AllTraffic" if i % 3 else "primary"
            tags = self.tags(endpoint, scenario, team=str(self.rng.choice(
                ["ml-platform", "recommendations", "search", "research"])))
            account, region = self.placement(tags["env"], eu_share=0.2)
            row = {"resource_id": f"{endpoint}/{variant}", "kind": "sagemaker_endpoint", "account": account,
                   "region": region, "name": endpoint, "instance_type": instance_type, "count": count,
                   "lifecycle": "on-demand", "state": "InService", "tags": tags, "endpoint": endpoint,
                   "variant": variant, "accelerator_type": accelerator,
                   "min_count": scaling[0] if scaling else count, "max_count": scaling[1] if scaling else count,
                   "autoscaling": scaling is not None}
            self.add(row, metrics, sources)

    def training_jobs(self) -> None:
        # (name, type, count, spot, checkpointing, scenario, hours)
        plan = [("llm-finetune", "ml.p3.2xlarge", 1, True, True, "training_spot", (8, 30)),
                ("diffusion-lora", "ml.g5.12xlarge", 2, True, True, "training_spot", (6, 20)),
                ("bert-pretrain", "ml.p3.2xlarge", 4, False, True, "training_spot_candidate", (24, 48)),
                ("vision-resnet", "ml.p3.2xlarge", 1, False, True, "training_spot_candidate", (10, 36)),
                ("tabular-autogluon", "ml.g5.12xlarge", 1, False, False, "training_underused_gpu", (3, 12)),
                ("asr-distill", "ml.p3.2xlarge", 2, False, False, "training_underused_gpu", (4, 16)),
                ("xgboost-churn", "ml.m5.4xlarge", 1, False, False, "training_cpu", (2, 6)),
                ("feature-backfill", "ml.m5.4xlarge", 3, False, True, "training_cpu", (4, 10))]
        for name, instance_type, count, spot, checkpointing, scenario, hours in plan:
            length = int(self.uniform(*hours) * 12)
            first = int(self.rng.integers(PER_DAY // 2, BINS - length))
            started = DEMO_START + pd.Timedelta(minutes=first * PERIOD_MINUTES)
            job = f"{name}-{started:%Y-%m-%d-%H-%M-%S}"
            span = slice(first, first + length)
            host = self.alibaba.take()
            host_cpu = self.t.alibaba.window(host, "cpu")
            cpu = host_cpu.values[span]
            memory = self.t.alibaba.window(host, "memory").values[span]
            if scenario == "training_cpu":
                c99, c50 = self.uniform(60, 95), self.uniform(40, 55)
            else:
                c99, c50 = self.uniform(15, 40), self.uniform(8, 14)
            m_max = self.uniform(40, 85)
            metrics = {"cpu": (first, power_map(cpu, 0.5, c50, 0.99, c99)),
                       "memory": (first, power_map(memory, 0.5, m_max * 0.85, 1.0, m_max))}
            sources = [f"cpu+memory: {host_cpu.source}, window hours {first / 12:.0f}-"
                       f"{(first + length) / 12:.0f}, power map cpu p50/p99 -> {c50:.1f}/{c99:.1f}, memory max "
                       f"{m_max:.1f}"]
            if scenario != "training_cpu":
                other = self.alibaba.take()
                load = self.t.alibaba.window(other, "cpu")
                g99 = self.uniform(15, 25) if scenario == "training_underused_gpu" else self.uniform(88, 98)
                g50 = g99 * (self.uniform(0.4, 0.6) if scenario == "training_underused_gpu" else 0.85)
                gmem = self.t.gpu.tile("busy", self.pod_order("busy"), "gpu_memory_used_bytes")
                gm_max = self.uniform(20, 35) if scenario == "training_underused_gpu" else self.uniform(70, 92)
                metrics["gpu"] = (first, power_map(load.values[span], 0.5, g50, 0.99, g99))
                metrics["gpu_memory"] = (first, power_map(gmem.values[span], 0.5, gm_max * 0.9, 1.0, gm_max))
                sources.append(f"gpu: {load.source} CPU series (batch host load; GenTD26 is inference-only), "
                               f"power map p50/p99 -> {g50:.1f}/{g99:.1f}; gpu_memory: {gmem.source}, max "
                               f"{gm_max:.1f}")
            seconds = length * STEP_S
            tags = self.tags(name, scenario, team=str(self.rng.choice(["ml-platform", "research"])), env="dev")
            account, region = self.placement("dev", eu_share=0.15)
            row = {"resource_id": job, "kind": "sagemaker_training_job", "account": account, "region": region,
                   "name": job, "instance_type": instance_type, "count": count,
                   "lifecycle": "on-demand", "state": "Completed", "tags": tags,
                   "managed_spot": spot, "checkpointing": checkpointing, "training_seconds": seconds,
                   "billable_seconds": int(seconds * self.uniform(0.3, 0.4)) if spot else seconds}
            self.add(row, metrics, sources)

    def notebooks(self) -> None:
        plan = [("nb-alice-research", "ml.m5.xlarge", "notebook_idle"),
                ("nb-feature-eda", "ml.t3.medium", "notebook_idle"),
                ("nb-bob-prototyping", "ml.t3.medium", "notebook_active"),
                ("nb-team-dashboards", "ml.m5.xlarge", "notebook_active")]
        for name, instance_type, scenario in plan:
            if scenario == "notebook_idle":
                metrics, source = self.bitbrains_cpu_memory("idle", self.uniform(0.3, 1.5), (0.3, 0.6),
                                                            self.uniform(15, 30), (0.7, 0.9))
            else:
                metrics, source = self.bitbrains_cpu_memory("busy", self.uniform(30, 60), (0.2, 0.4),
                                                            self.uniform(40, 70), (0.6, 0.85))
            tags = self.tags(name, scenario, team="research", env="dev")
            account, region = self.placement("dev", eu_share=0.0)
            row = {"resource_id": name, "kind": "sagemaker_notebook", "account": account, "region": region,
                   "name": name, "instance_type": instance_type, "count": 1, "lifecycle": "on-demand",
                   "state": "InService", "tags": tags}
            self.add(row, metrics, [source])

    def build(self) -> list[Resource]:
        self.idle(12)
        self.over_provisioned(30)
        self.right_sized(15)
        self.under_provisioned(8)
        self.growing(6)
        self.weekly_seasonal(6)
        self.memory_bound(6)
        self.no_memory_data(10)
        self.previous_generation(8)
        self.little_data(3)
        self.gpu_instances()
        self.volumes()
        self.endpoints()
        self.training_jobs()
        self.notebooks()
        # Added for the ML rule packs; kept last so the resources above keep their random draws.
        self.idle_data_volumes()
        self.elastic_inference_instance()
        self.more_endpoints()
        self.tuning_jobs()
        self.batch_environments()
        self.hot_gpu_endpoint()
        return self.resources

    # ---- ML rule packs: idle disks, EI on EC2, A/B, bursty and diurnal endpoints, tuning jobs, Batch --------

    def idle_data_volumes(self) -> None:
        """Attached volumes that nobody reads (a data disk left behind after a migration)."""
        hosts = [r for r in self.instances if r.row["tags"]["scenario"] in ("over_provisioned", "right_sized")]
        for i in range(2):
            self.volume("ebs_idle", "gp3", int(self.rng.choice([200, 500])), 3000.0, 125.0,
                        self.uniform(0.1, 0.6), hosts[-1 - i], quiet=True)

    def elastic_inference_instance(self) -> None:
        """An EC2 inference host that still carries an Elastic Inference accelerator."""
        metrics, source = self.bitbrains_cpu_memory("busy", self.uniform(25, 45), (0.3, 0.5),
                                                    self.uniform(40, 60), (0.7, 0.85))
        net, net_source = self.network(10 ** self.uniform(5.5, 6.5))
        tags = self.tags("legacy-tf-serving", "ei_instance", team="ml-platform", env="prod")
        resource = self.ec2("ei_instance", tags["Name"], "c5.xlarge", metrics | net, [source, net_source], tags,
                            where=(ACCOUNTS[0], REGIONS[0]))
        resource.row["accelerator_type"] = "eia2.medium"

    def endpoint(self, endpoint: str, variant: str, instance_type: str, count: int, scenario: str,
                 metrics: dict[str, tuple[int, Array]], sources: list[str], weight: float | None = None,
                 where: tuple[str, str] | None = None) -> None:
        tags = self.tags(endpoint, scenario, team=str(self.rng.choice(["ml-platform", "recommendations", "search"])),
                         env="prod")
        account, region = where or self.placement("prod", eu_share=0.2)
        row = {"resource_id": f"{endpoint}/{variant}", "kind": "sagemaker_endpoint", "account": account,
               "region": region, "name": endpoint, "instance_type": instance_type, "count": count,
               "lifecycle": "on-demand", "state": "InService", "tags": tags, "endpoint": endpoint, "variant": variant,
               "accelerator_type": None, "min_count": count, "max_count": count, "autoscaling": False,
               "weight": weight}
        self.add(row, metrics, sources)

    def cpu_endpoint_load(self, calls99: float, cpu99: float, mem_max: float) -> tuple[
            dict[str, tuple[int, Array]], list[str]]:
        """CPU and invocations following one Azure VM with a daily shape; memory from a Google pseudo-VM."""
        vm, start_day = self.az["diurnal"].take()
        load = self.t.azure.window(vm, start_day)
        c50 = cpu99 * self.uniform(0.4, 0.6)
        job = self.google.take()
        memory = self.t.google.window(job, 1)
        calls = np.rint(linear_scale(load.values, 0.99, calls99) * 5) / 5
        return ({"cpu": (0, power_map(load.values, 0.5, c50, 0.99, cpu99)), "invocations": (0, calls),
                 "memory": (0, power_map(memory.values, 0.5, mem_max * 0.85, 1.0, mem_max))},
                [f"cpu: {load.source}, power map p50/p99 -> {c50:.1f}/{cpu99:.1f}",
                 f"invocations/min proportional to the {load.source.split(' (')[0]} load, p99 {calls99:,.0f}/min",
                 f"memory: {memory.source}, power map max -> {mem_max:.1f}"])

    def more_endpoints(self) -> None:
        """An A/B test (a small challenger sized like the champion), a diurnal API without auto scaling, a
        nightly scoring endpoint that only sees traffic in a burst, and a GPU endpoint at the top of its GPUs."""
        where = (ACCOUNTS[0], REGIONS[0])
        for variant, weight, calls99 in (("champion", 0.9, 900.0), ("challenger", 0.1, 95.0)):
            metrics, sources = self.cpu_endpoint_load(calls99, self.uniform(35, 55) * (1 if weight > 0.5 else 0.3),
                                                      self.uniform(40, 60))
            self.endpoint("churn-ab-test", variant, "ml.m5.xlarge", 2, "endpoint_ab_test", metrics, sources,
                          weight=weight, where=where)
        metrics, sources = self.cpu_endpoint_load(2400.0, self.uniform(45, 60), self.uniform(40, 60))
        self.endpoint("product-search-api", "AllTraffic", "ml.c5.xlarge", 4, "endpoint_diurnal", metrics, sources,
                      where=where)
        machine = self.alibaba.take()
        burst = self.t.alibaba.window(machine, "cpu")
        minute_of_day = (np.arange(BINS) % PER_DAY) * PERIOD_MINUTES
        active = (minute_of_day >= 120) & (minute_of_day < 210)  # 02:00-03:30 UTC
        calls = np.where(active, np.rint(linear_scale(burst.values, 0.99, 1500.0)), 0.0)
        cpu, cpu_source = self.bitbrains_cpu("idle", self.uniform(1.0, 3.0))
        cpu = np.where(active, np.maximum(cpu, power_map(burst.values, 0.5, 45.0, 0.99, 80.0)), cpu)
        job = self.google.take()
        memory = self.t.google.window(job, 1)
        mem_max = self.uniform(30, 45)
        self.endpoint("nightly-scoring", "AllTraffic", "ml.c5.2xlarge", 2, "endpoint_bursty",
                      {"cpu": (0, cpu), "invocations": (0, calls),
                       "memory": (0, power_map(memory.values, 0.5, mem_max * 0.85, 1.0, mem_max))},
                      [f"invocations/min and busy CPU: {burst.source} CPU series, gated to a nightly "
                       f"02:00-03:30 UTC window (zero outside it), p99 in the window 1,500/min",
                       f"idle CPU outside the window: {cpu_source}",
                       f"memory: {memory.source}, power map max -> {mem_max:.1f}"], where=where)
        self.gpu_endpoint("sd-turbo-realtime", "ml.g4dn.xlarge", "endpoint_gpu_saturated", (99.5, 100), (55, 70),
                          (30, 50), 240.0)

    def hot_gpu_endpoint(self) -> None:
        """A GPU endpoint busy below the wall: GPU p99 92-96 %, never pinned, GPU memory to spare (a watch
        finding, no upsize); sd-turbo-realtime beside it sits at the capacity."""
        self.gpu_endpoint("caption-realtime", "ml.g5.xlarge", "endpoint_gpu_hot", (92, 96), (50, 65), (25, 45), 180.0)

    def gpu_endpoint(self, endpoint: str, instance_type: str, scenario: str, gpu99: tuple[float, float],
                     gpu_memory_max: tuple[float, float], cpu99: tuple[float, float], calls99: float) -> None:
        """Two instances serving a busy GenTD26 GPU pod group, invocations proportional to its duty cycle."""
        gpu, gpu_source, duty = self.gpu_series("busy", self.uniform(*gpu99), self.uniform(*gpu_memory_max),
                                                self.uniform(40, 60))
        cpu, cpu_source = self.bitbrains_cpu("busy", self.uniform(*cpu99))
        calls = np.rint(linear_scale(duty.values, 0.99, calls99) * 5) / 5
        self.endpoint(endpoint, "AllTraffic", instance_type, 2, scenario,
                      gpu | {"cpu": (0, cpu), "invocations": (0, calls)},
                      [gpu_source, cpu_source,
                       f"invocations/min proportional to the GPU duty cycle, p99 {calls99:.0f}/min"],
                      where=(ACCOUNTS[0], REGIONS[0]))

    def tuning_jobs(self) -> None:
        """Hyperparameter tuning jobs (inventory only: SageMaker reports per-training-job metrics, not these)."""
        # (name, type, instances per job, early stopping, training jobs, mean job hours, lagging share)
        plan = [("hpo-ctr-xgboost", "ml.m5.4xlarge", 1, "Off", 60, 1.6, 0.45),
                ("hpo-bert-classifier", "ml.g5.2xlarge", 1, "Off", 24, 3.5, 0.4),
                ("hpo-resnet-lr", "ml.p3.2xlarge", 1, "Auto", 30, 2.5, 0.0)]
        for name, instance_type, count, stopping, jobs, hours, lagging in plan:
            seconds = int(jobs * hours * 3600 * self.uniform(0.9, 1.1))
            tags = self.tags(name, "tuning_early_stopping_off" if stopping == "Off" else "tuning_early_stopping_auto",
                             team="research", env="dev")
            row = {"resource_id": name, "kind": "sagemaker_tuning_job", "account": ACCOUNTS[1], "region": REGIONS[0],
                   "name": name, "instance_type": instance_type, "count": count, "lifecycle": "on-demand",
                   "state": "Completed", "tags": tags, "early_stopping": stopping, "training_jobs": jobs,
                   "training_seconds": seconds, "billable_seconds": seconds,
                   "lagging_billable_seconds": int(seconds * lagging)}
            self.add(row, {}, [f"inventory only: {jobs} training jobs of about {hours:g} h; "
                               f"{lagging:.0%} of the billable time in jobs whose objective lagged the median"])

    def batch_environments(self) -> None:
        """AWS Batch compute environments: two on on-demand EC2 (one with its monthly vCPU-hours), one on Spot."""
        machine = self.alibaba.take()
        load = self.t.alibaba.window(machine, "cpu")
        max_vcpus = 256
        vcpu_hours = round(float(np.nanmean(load.values)) / 100 * max_vcpus * 730)
        plan = [("batch-training-ondemand", "on-demand", "BEST_FIT_PROGRESSIVE", "m5.2xlarge,c5.2xlarge,r5.2xlarge",
                 vcpu_hours, REGIONS[0], "batch_ondemand",
                 f"vcpu_hours: mean CPU of {load.source} x {max_vcpus} vCPUs x 730 h"),
                ("batch-features-nightly", "on-demand", "BEST_FIT", "c5.4xlarge,m5.4xlarge", None, REGIONS[1],
                 "batch_ondemand_no_usage", "inventory only: no vCPU-hours known"),
                ("batch-etl-spot", "spot", "SPOT_CAPACITY_OPTIMIZED", "m5.xlarge,m5a.xlarge,m6i.xlarge", None,
                 REGIONS[0], "batch_spot", "inventory only: already on Spot")]
        for name, lifecycle, strategy, types, hours, region, scenario, source in plan:
            tags = self.tags(name, scenario, team="data-eng", env="prod")
            row = {"resource_id": f"arn:aws:batch:{region}:{ACCOUNTS[0]}:compute-environment/{name}",
                   "kind": "batch_compute_environment", "account": ACCOUNTS[0], "region": region, "name": name,
                   "instance_type": types, "count": 1, "lifecycle": lifecycle, "state": "VALID", "tags": tags,
                   "allocation_strategy": strategy, "max_vcpus": max_vcpus, "vcpu_hours": hours}
            self.add(row, {}, [source])


@dataclass
class Disk:
    """An EBS volume's I/O, made from a trace's disk read/write throughput (KB/s)."""

    read_kbs: Array
    write_kbs: Array
    read_kib: float  # size of one read
    write_kib: float
    volume_type: str
    iops: float  # provisioned IOPS (gp2: the 3 IOPS/GiB baseline)
    throughput_mibps: float
    growth: tuple[float, float] = (1.0, 1.0)  # demand multiplier at the window's start and end

    @property
    def unit_iops(self) -> Array:
        return self.read_kbs / self.read_kib + self.write_kbs / self.write_kib

    def series(self, scale: float) -> dict[str, Array]:
        """Metrics at ``scale`` x the trace, limited by the volume's throughput and IOPS (gp2: its credits)."""
        scale_t = scale * np.linspace(*self.growth, self.read_kbs.size)
        read_bytes, write_bytes = self.read_kbs * 1024 * scale_t, self.write_kbs * 1024 * scale_t
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = np.minimum(1.0, self.throughput_mibps * 2**20 / (read_bytes + write_bytes))
            read_bytes, write_bytes = read_bytes * fit, write_bytes * fit
            demand = read_bytes / (self.read_kib * 1024) + write_bytes / (self.write_kib * 1024)
            out: dict[str, Array] = {}
            if self.volume_type == "gp2":
                out["burst_balance"], served = gp2_burst(demand, self.iops)
            else:
                served = np.minimum(demand, self.iops)
            fit = np.where(demand > 0, served / demand, 1.0)
        read_bytes, write_bytes = read_bytes * fit, write_bytes * fit
        return out | {"read_bytes": read_bytes, "write_bytes": write_bytes,
                      "read_iops": read_bytes / (self.read_kib * 1024),
                      "write_iops": write_bytes / (self.write_kib * 1024)}

    def drain_scale(self, final_balance: float) -> float:
        """Scale at which a gp2 volume's burst balance ends the window near ``final_balance`` %."""
        def final(scale: float) -> float:
            return float(np.nanmean(self.series(scale)["burst_balance"][-PER_DAY // 2:]))
        lo, hi = 0.0, 1.0
        while final(hi) > final_balance:
            lo, hi = hi, hi * 2
            if hi > 1e9:
                raise RuntimeError("this disk trace cannot drain a gp2 burst bucket")
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if final(mid) > final_balance else (lo, mid)
        return hi


def gp2_burst(demand: Array, baseline: float) -> tuple[Array, Array]:
    """gp2 (BurstBalance %, served IOPS): a 5.4M-credit bucket filled at the baseline rate, spent above it;
    the volume serves up to 3,000 IOPS (or its baseline if higher) while it has credits, its baseline after."""
    credits = GP2_CREDITS
    balance, served = np.empty(demand.size), np.empty(demand.size)
    for i, want in enumerate(np.nan_to_num(demand)):
        used = min(want, max(baseline, GP2_BURST_IOPS) if credits > 0 else baseline)
        credits = min(GP2_CREDITS, max(0.0, credits + (baseline - used) * STEP_S))
        balance[i], served[i] = 100.0 * credits / GP2_CREDITS, used
    missing = ~np.isfinite(demand)
    return np.where(missing, np.nan, balance), np.where(missing, np.nan, served)


# --------------------------------------------------------------------------------------------------------------
# Output


def inventory_table(resources: list[Resource]) -> pa.Table:
    frame = pd.DataFrame([r.row for r in resources])
    frame["tags"] = [json.dumps(t, sort_keys=True) for t in frame["tags"]]
    for column in ("managed_spot", "checkpointing", "autoscaling"):
        frame[column] = frame[column].astype("boolean")
    for column in ("min_count", "max_count", "training_seconds", "billable_seconds", "training_jobs",
                   "lagging_billable_seconds", "max_vcpus"):
        frame[column] = frame[column].astype("Int64")
    for column in ("weight", "vcpu_hours"):
        frame[column] = frame[column].astype("Float64")
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def metrics_table(resources: list[Resource]) -> pa.Table:
    ids, names, minutes, values = [], [], [], []
    for resource in sorted(resources, key=lambda r: r.row["resource_id"]):
        for metric in sorted(resource.metrics):
            first, series = resource.metrics[metric]
            keep = np.isfinite(series)
            bins = np.arange(first, first + series.size)[keep]
            ids.append(np.full(bins.size, resource.row["resource_id"], dtype=object))
            names.append(np.full(bins.size, metric, dtype=object))
            minutes.append((bins * PERIOD_MINUTES).astype(np.int32))
            values.append(np.maximum(series[keep], 0.0))
    metric = np.concatenate(names)
    codes = encode_values(is_percent(metric), np.concatenate(values))
    return pa.table({
        "resource_id": pa.array(np.concatenate(ids), pa.string()).dictionary_encode(),
        "metric": pa.array(metric, pa.string()).dictionary_encode(),
        "minute": pa.array(np.concatenate(minutes), pa.int32()),
        "code": pa.array(codes, pa.uint16()),
    })


def write_parquet(table: pa.Table, path: Path, encodings: dict[str, str] | None = None) -> None:
    """zstd Parquet; columns named in ``encodings`` get that encoding instead of a dictionary."""
    dictionary = [c for c in table.column_names if c not in (encodings or {})]
    pq.write_table(table, path, compression="zstd", compression_level=19, use_dictionary=dictionary,
                   column_encoding=encodings, write_statistics=False)


def readme(resources: list[Resource], sizes: dict[str, int]) -> str:
    scenarios: dict[str, list[Resource]] = {}
    for r in resources:
        scenarios.setdefault(r.row["tags"]["scenario"], []).append(r)
    lines = [
        "# Demo fleet",
        "",
        "Built by `tools/build_demo.py` (seed fixed; `python tools/build_demo.py --shared ../shared`) from the real",
        "public traces in `../shared/data/traces` (see that folder's README). Nothing here is a sine wave or a",
        "random walk: every series is a window of a real trace, re-timed onto the demo window",
        f"{DEMO_START:%Y-%m-%dT%H:%MZ} .. {DEMO_END:%Y-%m-%dT%H:%MZ} at {PERIOD_MINUTES} minutes, then transformed",
        "monotonically so the scenario's statistics land where it needs them. The scenario of every resource is",
        "in its `scenario` tag.",
        "",
        f"Files: `inventory.parquet` ({sizes['inventory.parquet']:,} bytes) and `metrics.parquet`",
        f"({sizes['metrics.parquet']:,} bytes). Load them with `advisor.sources.demo.load_demo()`. The metrics",
        "file is compact (dictionary ids, int32 minutes since the window start, uint16 value codes: hundredths for",
        "% metrics, `round(log1p(v) * 2800)` for the others).",
        "",
        "## Transforms",
        "",
        "* **power map**: `y = t_hi * (x / x_hi) ** g`, `g` chosen so the trace's median lands on `t_lo` and its p99",
        "  (CPU, GPU) or maximum (memory) on `t_hi`; order and shape of the samples are kept, values capped at 100.",
        "* **linear scale**: `y = x * t / x_q` (network, disk I/O, invocations, GPU duty cycle).",
        "* **ramp** (growing): the trace divided by its median daily p99 and multiplied by a straight line from the",
        "  start level to the end level.",
        "* **weekly shape**: each day of a trace with a strong daily shape is scaled so its p99 is a weekday peak",
        "  (Monday highest) or a low weekend peak.",
        "* Bitbrains July 2013 starts on a Monday like the window, so its weeks map weekday for weekday. Traces",
        "  shorter than 14 days are extended with a one-week lag (Google: days 1-10 then 4-7; Alibaba 2018: days",
        "  1-8 then 2-7; PlanetLab: each day takes the trace day with the same weekday). GenTD26 pods cover",
        "  01:12-24:00 of one day: averaged to 5 minutes, the first 70 minutes filled from the same pod's last 70,",
        "  and each demo day takes the next pod of a group of alike pods.",
        "* gp2 `burst_balance` is simulated from the volume's own I/O with the gp2 credit bucket (5.4M credits,",
        "  refilled at the baseline 3 IOPS/GiB, spent above it); every volume's I/O is capped at its IOPS and",
        "  throughput. The draining volumes' demand is multiplied by a 0.9 -> 1.1 ramp and its scale solved so the",
        "  balance averages 3-12 % over the last half-day (full for the first days, then falling toward 0).",
        "* Network for traces without network (Google, PlanetLab, Azure, GenTD26) comes from a Bitbrains VM's",
        "  network columns; GPU instances' CPU comes from a Bitbrains VM; training jobs' GPU load comes from an",
        "  Alibaba 2018 batch host's CPU series (GenTD26 is an inference trace).",
        "* **gate** (bursty endpoint): a real series kept inside a nightly 02:00-03:30 UTC window, zero outside it.",
        "* Tuning jobs and Batch compute environments are inventory only (AWS reports no utilization series for",
        "  them); the on-demand Batch environment's monthly vCPU-hours come from an Alibaba 2018 host's mean CPU.",
        "",
        "## Scenarios",
        "",
        "| scenario | count | kind | traces |",
        "|---|---|---|---|",
    ]
    for scenario, members in scenarios.items():
        text = " ".join(s for r in members for s in r.sources)
        traces = [label for label in TRACE_LABELS if label in text]
        lines.append(f"| {scenario} | {len(members)} | {members[0].row['kind']} | {', '.join(traces)} |")
    lines += ["", "## Resources", "", "| resource_id | scenario | type | where it came from |", "|---|---|---|---|"]
    for r in resources:
        kind_type = r.row.get("volume_type") or r.row.get("instance_type") or ""
        provenance = "; ".join(r.sources).replace("|", "/")
        lines.append(f"| `{r.row['resource_id']}` | {r.row['tags']['scenario']} | {kind_type} | {provenance} |")
    lines += [
        "",
        "## Citations",
        "",
        "* Bitbrains GWA-T-12 Rnd (TU Delft Grid Workloads Archive): Shen, van Beek, Iosup, \"Statistical",
        "  characterization of business-critical workloads hosted in cloud datacenters\", CCGrid 2015.",
        "  Copy from `JessieRayeBauer/Time-Series-Forecasting-` (BSD-2-Clause).",
        "* Alibaba GenAI serving trace 2026 (GenTD26), `alibaba/clusterdata` `cluster-trace-v2026-GenAI`",
        "  (no license stated for the folder; the sibling GPU trace is CC-BY-4.0). Timestamps are anonymized.",
        "* Google cluster-data ClusterData2011_2, as the pseudo-VM CPU/memory series of",
        "  `HiPro-IT/CPU-and-Memory-resource-usage-from-Google-Cluster-Data` (\"VM Consolidation with Multiple",
        "  Usage Prediction...\", IEEE TSC); series were filtered by the authors to CPU and memory in 5-90 %.",
        "* Azure Public Dataset V1: Cortez et al., \"Resource Central\", SOSP 2017, via `carlonlv/DataCenterSim`.",
        "* Alibaba cluster-trace-v2018 `machine_usage` sample, via `gohsyi/cluster_optimization`.",
        "* PlanetLab CoMon CPU traces (the CloudSim workload): Beloglazov & Buyya, CCPE 2012, via",
        "  `manoelcampos/planetlab-workload-traces`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                        help="the shared folder holding data/traces and data/catalog (default: ../shared)")
    args = parser.parse_args(argv)
    catalog = pd.read_csv(args.shared / "data" / "catalog" / "ec2_linux_prices_specs_vantage_2026.csv.gz",
                          usecols=["instance_type", "region_code"])
    resources = FleetBuilder(Traces.load(args.shared), catalog).build()
    OUT.mkdir(parents=True, exist_ok=True)
    write_parquet(inventory_table(resources), OUT / "inventory.parquet")
    write_parquet(metrics_table(resources), OUT / "metrics.parquet",
                  {"minute": "DELTA_BINARY_PACKED", "code": "BYTE_STREAM_SPLIT"})
    sizes = {p.name: p.stat().st_size for p in sorted(OUT.glob("*.parquet"))}
    (OUT / "README.md").write_text(readme(resources, sizes), encoding="utf-8")
    print(f"{len(resources)} resources; " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()))


if __name__ == "__main__":
    main()
