"""Advice quality: every backtest strategy on generated fleets with known demand and on real public traces.

Usage: python bench/quality.py [--shared ../shared]
                                [--datasets generated bitbrains google azure alibaba planetlab]
                                [--variants base no-network no-memory swapped] [--forecast-ablation] [--upsizes]
                                [--json OUT]

For each dataset the history is split (recommend from the first part, replay the second; see ``SPLITS``) and every
strategy of ``advisor backtest`` is replayed against the same later demand and the same oracle. Prints a markdown
table per dataset, variant and strategy: the share of the oracle's savings kept net of the cost of upsizes (EC2
advice against the EC2 oracle), the gross share, the share of resources hurt (advice that did not hold), and the
money. Asserts nothing. Reads ``../shared/data/traces`` at bench time only.

Robustness variants of every dataset (``VARIANTS``): ``base``; ``no-network`` (network metrics removed);
``no-memory`` (memory metrics removed); ``swapped`` (the two periods swapped in time: recommend from the later
period and replay the earlier one, so the test window is a different calendar period from the base variant's).

Thresholds are decided on the ``TUNED`` datasets only; the others are reported as held out (the table says which).

``--upsizes`` adds a second table: every EC2 upsize each strategy recommends (a target that costs more than the
current type), by its cause as the advice states it (censored demand, forecast, headroom on a measured
statistic, other) and by what the later demand says of it (needed, not needed, cannot tell: see
``advisor.backtest.replay``), with the count and the added cost a month, then the same verdicts per dimension the
upsizes add and its own cause. ``--json`` carries both in every record (``upsizes``) either way.

How the traces become EC2 fleets (all in us-east-1, on-demand Linux prices of the bundled catalog):

* **generated**: 90 instances, ten of each workload below, 28 days at 5 minutes, seed 7. The demand is the
  generating process itself, so the days after the cut-off continue it: flat, steadily growing, weekly-seasonal
  (one busy weekday), daily-spiky (a daily batch hour), memory-bound, memory-leaking, GPU-bound (g4dn/g5), idle,
  and rare large spikes (30-minute CPU and memory bursts on days 5, 16 and 24).
* **bitbrains**: Bitbrains GWA-T-12 Rnd, the 125 VMs of July 2013 (CPU, memory, network). Each VM's provisioned
  cores and memory (the most frequent non-zero value) go to the cheapest m5/c5/r5 type that holds both; usage is
  re-expressed as a percentage of that type (busy cores / vCPUs, GiB used / GiB). Days 1-28 from the first
  midnight.
* **google**: Google cluster 2011 pseudo-VMs (CPU and memory %, 5 minutes) of the 97 jobs with all 10 days. The
  capacity behind the percentages is unknown, so each VM is placed on an m5 size (large to 4xlarge) drawn with
  seed 11 and keeps its percentages. Days 1-10 from 2011-05-01.
* **azure**: Azure Public Dataset V1, 100 VMs, CPU average and maximum per 5 minutes (27.8 days), no memory. Each
  VM is placed on an m5 size drawn with seed 13; both statistics are given (sizing and the replay use the maxima).
* **alibaba**: Alibaba cluster-trace-v2018, the 16 sampled hosts (8 days of CPU and memory %): each host's
  ``cpu_num`` (96) becomes an m5.24xlarge (96 vCPUs); samples are averaged to 5 minutes.
* **planetlab**: PlanetLab CoMon 2011 (the CloudSim workload), CPU % per 5 minutes, no memory or network, of the
  22 VMs present on all 10 dates of the archive. Each VM is placed on an m5 size drawn with seed 17. The 10 dates
  (2011-03-03 to 2011-04-20) are **not consecutive**: each VM's days are laid end to end in date order as 10
  consecutive days from 2011-03-03, so weekly structure is lost and the ``swapped`` variant swaps the first five
  dates with the last five, not two calendar periods. A malformed line (empty, not an integer) drops that sample
  only; the others keep their time of day.

GenTD26 GPU pods are left out: they cover 22.8 hours, too short to split.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.backtest.ours import Ours
from advisor.backtest.registry import STRATEGIES
from advisor.backtest.replay import BacktestResult, run_backtest
from advisor.backtest.split import plan_split
from advisor.catalog import Catalog, load_catalog
from advisor.model import normalize_inventory, normalize_metrics
from advisor.settings import Settings, SizingConfig

REGION = "us-east-1"
STEP = pd.Timedelta(minutes=5)
# (train days, test days) per dataset: 14 + 14 where the trace is long enough, else half and half
SPLITS = {"generated": (14, 14), "bitbrains": (14, 14), "azure": (14, 14), "google": (5, 5), "alibaba": (4, 4),
          "planetlab": (5, 5)}
M5_SIZES = ("m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge")
# Datasets any threshold of the advisor may be decided on; the others are held out and only reported.
TUNED = ("generated", "bitbrains")
VARIANTS = ("base", "no-network", "no-memory", "swapped")

Frames = tuple[pd.DataFrame, pd.DataFrame]


# ------------------------------------------------------------------------------------------- generated fleets


def generated(_: Path, catalog: Catalog) -> Frames:
    """Ten instances of each workload shape; percentages of the instance's own capacity."""
    rng = np.random.default_rng(7)
    n = 28 * 288
    t = np.arange(n) / 288  # days since a Monday
    hour, weekday = (t % 1) * 24, t.astype(int) % 7
    start = pd.Timestamp("2026-11-02", tz="UTC")
    inventory, series = [], []

    def noise(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, n)

    def add(kind: str, i: int, instance_type: str, **metrics: np.ndarray) -> None:
        rid = f"{kind}-{i:02d}"
        inventory.append({"resource_id": rid, "kind": "ec2_instance", "region": REGION, "instance_type": instance_type,
                          "tags": f"scenario={kind}"})
        busy = kind != "idle"
        metrics.setdefault("network_in", noise(2e5, 2e6) if busy else noise(5, 20))
        metrics.setdefault("network_out", noise(2e5, 2e6) if busy else noise(5, 20))
        for metric, values in metrics.items():
            if metric in ("cpu", "memory", "gpu", "gpu_memory"):
                values = np.clip(values, 0, 100)
            series.append(pd.DataFrame({"resource_id": rid, "metric": metric,
                                        "timestamp": start + np.arange(n) * STEP, "value": values}))

    cpu_types = ("m5.2xlarge", "m5.4xlarge", "c5.2xlarge", "c5.4xlarge", "r5.2xlarge")
    for i in range(10):
        kind_type = cpu_types[i % len(cpu_types)]
        level = rng.uniform(10, 35)
        add("flat", i, kind_type, cpu=level + noise(-5, 5), memory=rng.uniform(20, 50) + noise(-2, 2))
        begin, rise = rng.uniform(5, 15), rng.uniform(20, 40)
        add("growing", i, kind_type, cpu=begin + rise * t / 28 + noise(-3, 3),
            memory=rng.uniform(20, 40) + noise(-2, 2))
        day = rng.integers(0, 5)
        peak = (weekday == day) & (hour >= 9) & (hour < 15)
        add("weekly", i, kind_type, cpu=np.where(peak, rng.uniform(50, 80) + noise(-5, 5), noise(5, 15)),
            memory=rng.uniform(20, 40) + noise(-2, 2))
        batch = (hour >= 2) & (hour < 3)
        add("daily-spiky", i, kind_type, cpu=np.where(batch, rng.uniform(70, 95) + noise(-3, 3), noise(5, 15)),
            memory=rng.uniform(20, 40) + noise(-2, 2))
        add("memory-bound", i, ("r5.xlarge", "m5.2xlarge", "r5.2xlarge")[i % 3], cpu=noise(5, 15),
            memory=rng.uniform(70, 85) + noise(-2, 2))
        base = rng.uniform(20, 30)
        add("memory-leak", i, kind_type, cpu=noise(10, 20), memory=base + rng.uniform(30, 45) * t / 28 + noise(-1, 1))
        gpu_level = rng.uniform(60, 85)
        add("gpu-bound", i, ("g4dn.xlarge", "g5.xlarge", "g5.2xlarge")[i % 3], cpu=noise(10, 30), memory=noise(20, 40),
            gpu=gpu_level + 10 * np.sin(2 * np.pi * t) + noise(-5, 5), gpu_memory=rng.uniform(50, 80) + noise(-1, 1))
        add("idle", i, kind_type, cpu=noise(0.1, 1.5), memory=rng.uniform(5, 15) + noise(-1, 1))
        burst = np.zeros(n, bool)
        for day_of_burst in (5, 16, 24):
            at = int((day_of_burst + rng.uniform(0, 1)) * 288)
            burst[at:at + 6] = True
        mem_level = rng.uniform(20, 35)
        add("rare-spikes", i, kind_type, cpu=np.where(burst, 95.0, noise(5, 15)),
            memory=np.where(burst, mem_level + 35, mem_level + noise(-1, 1)))
    return normalize_inventory(pd.DataFrame(inventory)), normalize_metrics(pd.concat(series, ignore_index=True))


# ------------------------------------------------------------------------------------------------- real traces


def cheapest_holding(catalog: Catalog, families: tuple[str, ...], vcpus: float, memory_gib: float) -> str | None:
    """The cheapest type of ``families`` offered in the region with at least these vCPUs and GiB."""
    offered = catalog.offered(REGION)
    fits = offered[offered["family"].isin(families) & ~offered["bare_metal"].astype(bool)
                   & (offered["vcpus"] >= vcpus) & (offered["memory_gib"] >= memory_gib)]
    return None if fits.empty else str(fits["ondemand_hourly"].idxmin())


def m5_sizes(count: int, seed: int) -> list[str]:
    """An m5 size per VM drawn with ``seed``, for traces whose percentages hide the capacity behind them."""
    return [str(size) for size in np.random.default_rng(seed).choice(M5_SIZES, count)]


def bitbrains(shared: Path, catalog: Catalog) -> Frames:
    archive = shared / "data/traces/bitbrains_rnd/bitbrains_rnd_2013-07_125vms.tar.xz"
    inventory, series = [], []
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.name.endswith(".csv"):
                continue
            frame = pd.read_csv(io.BytesIO(tar.extractfile(member).read()), sep=";", skipinitialspace=True)
            frame.columns = [c.strip() for c in frame.columns]
            cores = frame.loc[frame["CPU cores"] > 0, "CPU cores"].mode()
            memory_kb = frame.loc[frame["Memory capacity provisioned [KB]"] > 0,
                                  "Memory capacity provisioned [KB]"].mode()
            if cores.empty or memory_kb.empty:
                continue
            memory_gib = float(memory_kb.iloc[0]) / 1024**2
            instance_type = cheapest_holding(catalog, ("m5", "c5", "r5"), float(cores.iloc[0]), memory_gib)
            if instance_type is None:
                continue
            spec = catalog.spec(instance_type)
            rid = f"bitbrains-{Path(member.name).stem}"
            inventory.append({"resource_id": rid, "kind": "ec2_instance", "region": REGION,
                              "instance_type": instance_type})
            stamps = pd.to_datetime(frame["Timestamp [ms]"], unit="s", utc=True)
            busy_cores = frame["CPU usage [%]"].clip(0, 100) / 100 * float(cores.iloc[0])
            used_gib = frame["Memory usage [KB]"] / 1024**2
            values = {"cpu": busy_cores / spec["vcpus"] * 100, "memory": used_gib / spec["memory_gib"] * 100,
                      "network_in": frame["Network received throughput [KB/s]"] * 1024,
                      "network_out": frame["Network transmitted throughput [KB/s]"] * 1024}
            for metric, value in values.items():
                series.append(pd.DataFrame({"resource_id": rid, "metric": metric, "timestamp": stamps,
                                            "value": value.to_numpy(float)}))
    metrics = pd.concat(series, ignore_index=True)
    first_midnight = metrics["timestamp"].min().ceil("D")
    metrics = metrics[(metrics["timestamp"] >= first_midnight)
                      & (metrics["timestamp"] < first_midnight + pd.Timedelta(days=28))]
    return normalize_inventory(pd.DataFrame(inventory)), normalize_metrics(metrics)


def google(shared: Path, _: Catalog) -> Frames:
    days: dict[str, dict[int, np.ndarray]] = {}
    with tarfile.open(shared / "data/traces/google_gcd2011/GCD_VMs.tar.gz") as tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if not member.isfile() or not name.startswith("vm_"):
                continue
            job, day = name.rsplit("_", 1)
            days.setdefault(job, {})[int(day)] = np.loadtxt(tar.extractfile(member), ndmin=2)
    start = pd.Timestamp("2011-05-01", tz="UTC")
    inventory, series = [], []
    jobs = sorted(j for j, d in days.items() if set(d) == set(range(1, 11)))
    for job, instance_type in zip(jobs, m5_sizes(len(jobs), 11), strict=True):
        values = np.concatenate([days[job][d] for d in range(1, 11)])
        stamps = start + np.arange(len(values)) * STEP
        inventory.append({"resource_id": job, "kind": "ec2_instance", "region": REGION,
                          "instance_type": instance_type})
        for column, metric in enumerate(("cpu", "memory")):
            series.append(pd.DataFrame({"resource_id": job, "metric": metric, "timestamp": stamps,
                                        "value": values[:, column]}))
    return normalize_inventory(pd.DataFrame(inventory)), normalize_metrics(pd.concat(series, ignore_index=True))


def azure(shared: Path, _: Catalog) -> Frames:
    folder = shared / "data/traces/azure_v1"
    start = pd.Timestamp("2017-01-02", tz="UTC")
    frames = []
    for stat in ("avg", "max"):
        wide = pd.read_csv(folder / f"azure_v1_cpu_{stat}_100vms_5min.csv.gz")
        stamps = start + (wide["timestamp"].to_numpy() - 1) * STEP
        long = wide.drop(columns="timestamp").set_axis(stamps).rename_axis("timestamp").reset_index().melt(
            id_vars="timestamp", var_name="resource_id", value_name="value")
        frames.append(long.assign(metric="cpu", stat=stat, resource_id="azure-" + long["resource_id"]))
    metrics = pd.concat(frames, ignore_index=True)
    ids = sorted(metrics["resource_id"].unique())
    inventory = pd.DataFrame({"resource_id": ids, "kind": "ec2_instance", "region": REGION,
                              "instance_type": m5_sizes(len(ids), 13)})
    return normalize_inventory(inventory), normalize_metrics(metrics)


def alibaba(shared: Path, catalog: Catalog) -> Frames:
    folder = shared / "data/traces/alibaba2018"
    usage = pd.read_csv(folder / "machine_usage_sample_16machines.csv.gz", header=None,
                        names=["machine_id", "time", "cpu", "memory", "mem_gps", "mkpi", "net_in", "net_out", "disk"])
    meta = pd.read_csv(folder / "machine_meta.csv.gz", header=None,
                       names=["machine_id", "time", "fd1", "fd2", "cpu_num", "mem_size", "status"])
    cores = meta.groupby("machine_id")["cpu_num"].max()
    start = pd.Timestamp("2018-01-01", tz="UTC")
    usage["timestamp"] = (start + pd.to_timedelta(usage["time"], unit="s")).dt.floor("5min")
    averaged = usage.groupby(["machine_id", "timestamp"], as_index=False)[["cpu", "memory"]].mean()
    metrics = averaged.melt(id_vars=["machine_id", "timestamp"], value_vars=["cpu", "memory"], var_name="metric")
    metrics = metrics.rename(columns={"machine_id": "resource_id"}).dropna(subset=["value"])
    ids = sorted(metrics["resource_id"].unique())
    types = [cheapest_holding(catalog, ("m5",), float(cores[i]), 0.0) for i in ids]
    inventory = pd.DataFrame({"resource_id": ids, "kind": "ec2_instance", "region": REGION, "instance_type": types})
    return normalize_inventory(inventory), normalize_metrics(metrics)


def planetlab(shared: Path, _: Catalog) -> Frames:
    archive = shared / "data/traces/planetlab/planetlab_2011_10days_11746series.tar.xz"
    files: dict[tuple[str, str], bytes] = {}  # (yyyymmdd, vm) -> content of planetlab/<yyyymmdd>/<vm>
    with tarfile.open(archive) as tar:
        for member in tar:  # one pass in archive order: seeking back in an xz stream decompresses it again
            parts = Path(member.name).parts
            if member.isfile() and len(parts) >= 2 and re.fullmatch(r"\d{8}", parts[-2]):
                files[parts[-2], parts[-1]] = tar.extractfile(member).read()
    dates = sorted({date for date, _ in files})
    vms = sorted(vm for vm in {vm for _, vm in files} if all((date, vm) in files for date in dates))
    start = pd.Timestamp(dates[0], tz="UTC")
    series = []
    for vm in vms:
        for day, date in enumerate(dates):
            slots, values = _planetlab_day(files[date, vm])
            series.append(pd.DataFrame({"resource_id": f"planetlab-{vm}", "metric": "cpu",
                                        "timestamp": start + (day * 288 + slots) * STEP, "value": values}))
    ids = [f"planetlab-{vm}" for vm in vms]
    inventory = pd.DataFrame({"resource_id": ids, "kind": "ec2_instance", "region": REGION,
                              "instance_type": m5_sizes(len(ids), 17)})
    return normalize_inventory(inventory), normalize_metrics(pd.concat(series, ignore_index=True))


def _planetlab_day(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The 5-minute slots (line numbers) and CPU % of one VM-day file.

    A malformed line (empty, not an integer) drops its slot only; lines past the day's 288th are not read.
    """
    slots, values = [], []
    for slot, line in enumerate(data.decode(errors="replace").splitlines()[:288]):
        try:
            values.append(float(int(line)))
        except ValueError:
            continue
        slots.append(slot)
    return np.array(slots, dtype=int), np.array(values, dtype=float)


DATASETS: dict[str, Callable[[Path, Catalog], Frames]] = {
    "generated": generated, "bitbrains": bitbrains, "google": google, "azure": azure, "alibaba": alibaba,
    "planetlab": planetlab}


# ------------------------------------------------------------------------------------------------------- report


class OursForecastToggled(Ours):
    """``ours`` with the forecast toggled from its default, for the forecast ablation."""

    name = "ours-no-forecast" if SizingConfig().use_forecast else "ours-with-forecast"

    def __init__(self) -> None:
        super().__init__(Settings(sizing=SizingConfig(use_forecast=not SizingConfig().use_forecast)))


def run(name: str, variant: str, shared: Path, catalog: Catalog,
        ablation: bool = False) -> tuple[BacktestResult, float]:
    started = time.perf_counter()
    inventory, metrics = DATASETS[name](shared, catalog)
    train_days, test_days = SPLITS[name]
    metrics = apply_variant(metrics, variant, train_days, test_days)
    split = plan_split(metrics, train_days, test_days)
    strategies = [cls() for cls in STRATEGIES.values()] + ([OursForecastToggled()] if ablation else [])
    result = run_backtest(inventory, metrics, catalog, split, strategies, f"{name} ({variant})")
    return result, time.perf_counter() - started


def apply_variant(metrics: pd.DataFrame, variant: str, train_days: float, test_days: float) -> pd.DataFrame:
    """The dataset's metrics as ``variant`` sees them (see the module docstring)."""
    names = metrics["metric"].astype(str)
    if variant == "no-network":
        return metrics[~names.isin(["network_in", "network_out"])].reset_index(drop=True)
    if variant == "no-memory":
        return metrics[names != "memory"].reset_index(drop=True)
    if variant == "swapped":
        split = plan_split(metrics, train_days, test_days)
        train, test = split.train(metrics), split.test(metrics)
        later = pd.Timedelta(days=test_days)
        earlier = pd.Timedelta(days=train_days)
        return pd.concat([test.assign(timestamp=test["timestamp"] - earlier),
                          train.assign(timestamp=train["timestamp"] + later)], ignore_index=True)
    return metrics


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.0f}"


def dominance(result: BacktestResult) -> str:
    """Whether ours kept at least the net share of every reference strategy with no more resources hurt."""
    by_name = {o.name: o.summary for o in result.outcomes}
    ours = by_name["ours"]
    misses = []
    for name, other in by_name.items():
        if name.startswith("ours"):
            continue
        more_savings = (ours["net_oracle_share"] or 0) >= (other["net_oracle_share"] or 0) - 1e-9
        fewer_hurt = ours["hurt"] <= other["hurt"]
        reasons = [why for why, bad in (("less net savings", not more_savings), ("more hurt", not fewer_hurt)) if bad]
        if reasons:
            misses.append(f"{name} ({', '.join(reasons)})")
    return "yes" if not misses else "no: " + ", ".join(misses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--forecast-ablation", action="store_true", help="add ours with the forecast toggled")
    parser.add_argument("--upsizes", action="store_true", help="also print every EC2 upsize by cause and verdict")
    parser.add_argument("--json", type=Path, help="also write every summary here (dataset, variant, role, strategy)")
    args = parser.parse_args()
    catalog = load_catalog()
    print("| dataset | variant | role | resources | split (days) | strategy | net share of oracle | gross share "
          "| hurt | kept $/mo | added cost $/mo | net $/mo | on failed advice $/mo |")
    print("|---|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    upsizes: list[str] = []
    dimensions: list[str] = []
    records: list[dict[str, object]] = []
    for name in args.datasets:
        role = "tuned" if name in TUNED else "held out"
        for variant in args.variants:
            result, seconds = run(name, variant, args.shared, catalog, args.forecast_ablation)
            split = f"{result.split.train_days:g} + {result.split.test_days:.1f}"
            for outcome in result.outcomes:
                s = outcome.summary
                records.append({"dataset": name, "variant": variant, "role": role, "strategy": outcome.name,
                                "split": result.split.describe(), **s})
                print(f"| {name} | {variant} | {role} | {result.resources_replayed} | {split} | {outcome.name} "
                      f"| {_pct(s['net_oracle_share'])} | {_pct(s['oracle_share'])} "
                      f"| {_pct(s['hurt_share'])} ({s['hurt']}) | {_money(s['savings_kept'])} "
                      f"| {_money(s['added_cost'])} | {_money(s['net_savings'])} | {_money(s['savings_failed'])} |",
                      flush=True)
            upsizes += [f"| {name} | {variant} | {role} | {o.name} | {line}" for o in result.outcomes
                        for line in upsize_lines(o.summary["upsizes"])]
            dimensions += [f"| {name} | {variant} | {role} | {o.name} | {dim} | {cause} | {sum(v.values())} | "
                           + " | ".join(str(n) for n in v.values()) + " |" for o in result.outcomes
                           for dim, causes in o.summary["upsizes"]["by_dimension"].items()
                           for cause, v in causes.items()]
            held = "; ".join(f"{o.name} held by confidence: {_bands(o.summary)}" for o in result.outcomes
                             if o.name.startswith("ours"))
            verdicts.append(f"{name} ({variant}, {role}): oracle "
                            f"${result.outcomes[0].summary['oracle_savings']:,.0f}/mo; ours dominates: "
                            f"{dominance(result)}; {held} ({seconds:.0f} s)")
            if args.json:
                args.json.write_text(json.dumps(records, indent=1, default=str))
    print()
    for line in verdicts:
        print(line)
    if args.upsizes:
        print()
        print("| dataset | variant | role | strategy | cause | upsizes | needed | not needed | cannot tell |")
        print("|---|---|---|---|---|---:|---:|---:|---:|")
        for line in upsizes:
            print(line)
        print()
        print("| dataset | variant | role | strategy | dimension | cause | upsizes adding it | needed | not needed "
              "| cannot tell |")
        print("|---|---|---|---|---|---|---:|---:|---:|---:|")
        for line in dimensions:
            print(line)


def upsize_lines(upsizes: dict[str, Any]) -> list[str]:
    """One table row's tail per cause: the upsizes and, per verdict, their count and added cost a month."""
    lines = []
    for cause, verdicts in upsizes["by_cause"].items():
        count = sum(v["count"] for v in verdicts.values())
        cost = sum(v["added_cost"] for v in verdicts.values())
        cells = " | ".join(f"{v['count']} ({_money(v['added_cost'])})" for v in verdicts.values())
        lines.append(f"{cause} | {count} ({_money(cost)}) | {cells} |")
    return lines


def _bands(summary: dict[str, Any]) -> str:
    return ", ".join(f"{band} {b['hold_rate']:.0%} of {b['judged']}" for band, b in
                     summary["hold_rate_by_confidence"].items()) or "none judged"


if __name__ == "__main__":
    main()
