"""Sharded audits: ``advisor audit --executor local`` (one process) against ``--executor dask`` on a two-worker
LocalCluster, on a generated file-source fleet over several accounts and regions.

Usage: python bench/shards.py [--resources 2000] [--accounts 4] [--workers 2] [--dir DIR] [--keep]

The fleet is ``bench/pipeline.py``'s (EC2 instances, 14 days at 5 minutes, cpu, memory and network, parquet)
with the accounts dealt round-robin over the resources (its two regions are kept): accounts x 2 shards. Each
command runs in a child process under ``/usr/bin/time`` (wall time, CPU seconds and the command's own peak RSS:
for the dask run that is the driver, since the workers are not its children). The bench starts the LocalCluster itself
(``--workers`` processes, one thread each) and points the command at it with ``--scheduler``; the cluster reports
each shard task's compute seconds (its task stream) and each worker process's peak RSS and CPU seconds over its
life (start-up included; ``getrusage`` in the worker, after the run). Both runs' recommendations must be equal
(checked).
Prints figures; asserts only that equality.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from pipeline import write_fleet  # noqa: E402  (the fleet generator of bench/pipeline.py)


def deal_accounts(directory: Path, accounts: int) -> None:
    """Give the fleet's resources ``accounts`` accounts, round-robin."""
    table = pq.read_table(directory / "inventory.parquet")
    ids = [f"{100000000000 + i % accounts}" for i in range(table.num_rows)]
    pq.write_table(table.set_column(table.schema.get_field_index("account"), "account", pa.array(ids)),
                   directory / "inventory.parquet")


def run(source: Path, out: Path, home: Path, *executor: str) -> tuple[float, float, int, str]:
    """Wall and CPU (user + system) seconds and peak RSS KiB of the command (a child process), and its stderr if it
    failed."""
    env = os.environ | {"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    env.pop("ADVISOR_STORE", None)
    command = ["/usr/bin/time", "-f", "TIME %e %M %U %S", sys.executable, "-m", "advisor", "audit", "--source",
               f"files:{source}", "--out", str(out), "-q", "--no-history", *executor]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=home)
    lines = done.stderr.strip().splitlines()
    timing = next((line for line in reversed(lines) if line.startswith("TIME ")), "TIME nan 0 nan nan")
    _, wall, peak, user, system = timing.split()
    return float(wall), float(user) + float(system), int(peak), "" if done.returncode in (0, 3) else done.stderr


def worker_usage() -> tuple[int, float]:
    """A worker process's peak RSS KiB and CPU seconds (user + system) over its life."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    import distributed

    scratch = args.dir or Path(tempfile.mkdtemp(prefix="advisor-shards-"))
    try:
        source = scratch / "fleet"
        samples = write_fleet(source, args.resources, "parquet")
        deal_accounts(source, args.accounts)
        print(f"fleet: {args.resources:,} resources, {samples:,} samples, {args.accounts} accounts x 2 regions")
        wall, cpu, peak, failed = run(source, scratch / "single", scratch, "--executor", "local")
        print(f"--executor local (one process): {wall:7.1f} s wall, {cpu:7.1f} CPU s, peak RSS "
              f"{peak / 1024:7,.0f} MiB {failed}")
        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
            wall, cpu, peak, failed = run(source, scratch / "dask", scratch, "--executor", "dask", "--scheduler",
                                          cluster.scheduler_address)
            workers = client.run(worker_usage)
        print(f"--executor dask ({args.workers} workers): {wall:7.1f} s wall, driver {cpu:7.1f} CPU s, driver peak "
              f"RSS {peak / 1024:7,.0f} MiB {failed}")
        for address, (kib, seconds) in sorted(workers.items()):
            print(f"  worker {address}: peak RSS {kib / 1024:7,.0f} MiB, {seconds:7.1f} CPU s (start-up included)")
        print(f"  driver and workers: {cpu + sum(s for _, s in workers.values()):7.1f} CPU s")
        for task in sorted(stream.data, key=lambda t: str(t["key"])):
            compute = [s for s in task["startstops"] if s["action"] == "compute"]
            seconds = sum(s["stop"] - s["start"] for s in compute)
            print(f"  shard task {task['key']}: {seconds:6.1f} s compute")
        single = json.loads((scratch / "single" / "recommendations.json").read_text())
        sharded = json.loads((scratch / "dask" / "recommendations.json").read_text())
        same = single["recommendations"] == sharded["recommendations"]
        print(f"recommendations equal: {same} ({len(single['recommendations'])})")
        if not same:
            sys.exit(1)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
