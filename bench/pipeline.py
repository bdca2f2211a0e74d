"""End-to-end benchmark of the file source: ``advisor audit --source files:DIR`` on generated fleets.

Usage: python bench/pipeline.py [--sizes 1000,10000] [--formats parquet csv] [--dir DIR] [--keep] [--checkout DIR]
                                [--stages]

For each size and format it writes a file-source export (EC2 instances, 14 days at 5 minutes, cpu, memory,
network_in and network_out; a fixed seed; rows grouped by resource as exporters write them) under a temporary
directory (or ``--dir``), then runs the real command in a child process::

    python -m advisor audit --source files:DIR --out OUT -q --no-history

under ``/usr/bin/time`` and prints its wall time, peak RSS, peak RSS per sample and the size of the HTML report.
The child gets private per-user directories (no store, history or lock of yours is touched); ``--checkout``
runs the ``advisor`` package of another source tree (e.g. ``git archive`` of an older commit) for before/after
figures. ``--stages`` also runs the command's steps one by one in a child process (read, analysis, HTML, JSON,
CSV) and prints each one's wall and CPU seconds (all threads) and the process's RSS after it. The export is
written block by block, so a large fleet needs little memory to generate. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

METRICS = ("cpu", "memory", "network_in", "network_out")
TYPES = ("m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge", "c5.xlarge", "c5.2xlarge", "r5.xlarge", "r5.2xlarge",
         "m6i.2xlarge", "c6i.4xlarge")
DAYS = 14
STEPS = DAYS * 288  # 5-minute samples
START = np.datetime64("2026-11-02T00:00:00", "us")
BLOCK = 500  # resources generated and written at a time
SEED = 7


def resource_ids(n: int) -> list[str]:
    return [f"i-{i:017x}" for i in range(n)]


def write_inventory(directory: Path, n: int, fmt: str, rng: np.random.Generator) -> None:
    table = pa.table({
        "resource_id": resource_ids(n),
        "kind": ["ec2_instance"] * n,
        "account": ["123456789012"] * n,
        "region": rng.choice(["us-east-1", "eu-west-1"], n).tolist(),
        "instance_type": rng.choice(TYPES, n).tolist(),
    })
    if fmt == "parquet":
        pq.write_table(table, directory / "inventory.parquet")
    else:
        pacsv.write_csv(table, directory / "inventory.csv", pacsv.WriteOptions(quoting_style="none"))


def _block_values(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, metrics, steps) values: a level, a daily cycle, noise and, for one resource in ten, a trend."""
    t = np.arange(STEPS, dtype=np.float32)
    daily = np.sin(2 * np.pi * t / 288).astype(np.float32)
    blocks = []
    for metric in METRICS:
        scale = 100.0 if metric in ("cpu", "memory") else 5e6
        level = rng.uniform(0.02, 0.6, n).astype(np.float32)[:, None]
        trend = ((rng.uniform(0, 1, n) < 0.1) * rng.uniform(0, 0.02, n)).astype(np.float32)[:, None]
        values = level * (1 + 0.3 * daily[None, :]) + trend * t[None, :] / 288
        values += rng.normal(0, 0.03, (n, STEPS)).astype(np.float32)
        blocks.append(np.clip(values, 0, 1) * scale)
    return np.round(np.stack(blocks, axis=1).astype(np.float64), 2)


def _block_table(ids: list[str], rng: np.random.Generator, fmt: str) -> pa.Table:
    n = len(ids)
    values = _block_values(n, rng).reshape(-1)
    rid = pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(n, dtype=np.int32), len(METRICS) * STEPS)),
                                         pa.array(ids))
    metric = pa.DictionaryArray.from_arrays(
        pa.array(np.tile(np.repeat(np.arange(len(METRICS), dtype=np.int32), STEPS), n)), pa.array(METRICS))
    steps = np.tile(np.arange(STEPS, dtype=np.int32), n * len(METRICS))
    stamps = START + np.arange(STEPS) * np.timedelta64(300, "s")
    if fmt == "parquet":
        timestamp: pa.Array = pa.array(stamps[steps], type=pa.timestamp("us", tz="UTC"))
        return pa.table({"resource_id": rid, "metric": metric, "timestamp": timestamp, "value": values})
    text = [f"{np.datetime_as_string(s, unit='s')}Z" for s in stamps]
    timestamp = pa.DictionaryArray.from_arrays(pa.array(steps), pa.array(text))
    return pa.table({"resource_id": rid.cast(pa.string()), "metric": metric.cast(pa.string()),
                     "timestamp": timestamp.cast(pa.string()), "value": values})


def write_fleet(directory: Path, n: int, fmt: str) -> int:
    """Write inventory and metrics for ``n`` instances; returns the number of samples."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    write_inventory(directory, n, fmt, rng)
    ids = resource_ids(n)
    writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    try:
        for begin in range(0, n, BLOCK):
            table = _block_table(ids[begin:begin + BLOCK], rng, fmt)
            if writer is None:
                writer = (pq.ParquetWriter(directory / "metrics.parquet", table.schema) if fmt == "parquet"
                          else pacsv.CSVWriter(directory / "metrics.csv", table.schema,
                                                   write_options=pacsv.WriteOptions(quoting_style="none")))
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return n * len(METRICS) * STEPS


def run_audit(source: Path, out: Path, home: Path, checkout: Path | None) -> tuple[float, float, int, str]:
    """Wall and CPU (user + system) seconds and peak RSS KiB of the audit in a child process (under
    /usr/bin/time), and its stderr if it failed."""
    env = os.environ | {"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    env.pop("ADVISOR_STORE", None)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout.resolve())
    command = ["/usr/bin/time", "-f", "TIME %e %M %U %S", sys.executable, "-m", "advisor", "audit", "--source",
               f"files:{source}", "--out", str(out), "-q", "--no-history"]
    # run from the scratch directory: python -m puts the working directory first on the import path
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=home)
    lines = done.stderr.strip().splitlines()
    timing = next((line for line in reversed(lines) if line.startswith("TIME ")), None)
    if timing is None:
        return float("nan"), float("nan"), 0, done.stderr
    _, wall, peak, user, system = timing.split()
    other = "\n".join(line for line in lines if not line.startswith("TIME "))
    return float(wall), float(user) + float(system), int(peak), other if done.returncode not in (0, 3) else ""


STAGES = """
import resource, sys, time
def mib(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
def now():
    return next(int(line.split()[1]) // 1024 for line in open("/proc/self/status") if line.startswith("VmRSS"))
t, cpu = time.perf_counter(), time.process_time()
def stage(name):
    global t, cpu
    print(f"  {name:<9} {time.perf_counter() - t:7.1f} s   CPU {time.process_time() - cpu:7.1f} s   "
          f"RSS {now():7,} MiB   peak {mib():7,} MiB", flush=True)
    t, cpu = time.perf_counter(), time.process_time()
from advisor.catalog import load_catalog
from advisor.engine.features import sample_needs
from advisor.engine.pipeline import audit, load_rule_set
from advisor.report.exports import to_csv, to_json
from advisor.report.page import render_html
from advisor.report.summary import summarize
from advisor.settings import Settings
from advisor.sources import load_source
settings = Settings()
rules, catalog = load_rule_set(settings), load_catalog()
stage("imports")
data = load_source("files:" + sys.argv[1], needs=sample_needs(settings))
stage("read")
result = data.add_rejected(audit(data.inventory, data.analysed, catalog, settings, rules=rules, window=data.window,
                                 problems=data.problems))
stage("analysis")
summary = summarize(result, "team")
html = render_html(result, summary)
stage("html")
text = to_json(result, summary)
stage("json")
text = to_csv(result)
stage("csv")
"""


def run_stages(source: Path, home: Path) -> None:
    """The command's steps in a child process, each one's wall and CPU seconds and RSS (the current code only)."""
    env = os.environ | {"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    subprocess.run([sys.executable, "-c", STAGES, str(source)], env=env, cwd=home, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda text: [int(s) for s in text.split(",")], default=[1000, 10000],
                        help="comma-separated fleet sizes (default 1000,10000)")
    parser.add_argument("--formats", nargs="+", choices=("parquet", "csv"), default=["parquet"])
    parser.add_argument("--dir", type=Path, help="write the exports here (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the exports (reused by a later run with --dir)")
    parser.add_argument("--checkout", type=Path, help="run the advisor package of this source tree instead")
    parser.add_argument("--stages", action="store_true", help="also time the command's steps one by one")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="advisor-bench-"))
    print(f"{'format':>7} {'resources':>10} {'samples':>13} {'export MB':>10} {'wall s':>8} {'CPU s':>8} "
          f"{'peak RSS MiB':>13} {'B/sample':>9} {'report MB':>10}")
    try:
        for fmt in args.formats:
            for n in args.sizes:
                source = root / f"{fmt}-{n}"
                samples = n * len(METRICS) * STEPS
                if not source.exists():
                    started = time.perf_counter()
                    partial = source.with_name(source.name + ".partial")
                    shutil.rmtree(partial, ignore_errors=True)
                    write_fleet(partial, n, fmt)
                    partial.rename(source)  # an interrupted run leaves no half-written export behind
                    print(f"  (wrote {source} in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
                size = sum(p.stat().st_size for p in source.iterdir()) / 1e6
                with tempfile.TemporaryDirectory(prefix="advisor-bench-run-") as run:
                    out = Path(run) / "out"
                    wall, cpu, peak_kib, problem = run_audit(source, out, Path(run), args.checkout)
                    report = out / "report.html"
                    report_mb = report.stat().st_size / 1e6 if report.exists() else float("nan")
                print(f"{fmt:>7} {n:>10,} {samples:>13,} {size:>10,.0f} {wall:>8.1f} {cpu:>8.1f} "
                      f"{peak_kib / 1024:>13,.0f} {peak_kib * 1024 / samples:>9.1f} {report_mb:>10.1f}", flush=True)
                if problem:
                    print(f"  failed: {problem[-2000:]}", file=sys.stderr)
                if args.stages:
                    with tempfile.TemporaryDirectory(prefix="advisor-bench-run-") as run:
                        run_stages(source, Path(run))
                if not args.keep and args.dir is None:
                    shutil.rmtree(source)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
