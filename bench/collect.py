"""Benchmark of the CloudWatch collector: calls made against the minimum, wall time, peak memory, increments.

Seeds a moto server whose CloudWatch reads are indexed (``../shared/tools/moto_fastcw.py``, read at bench time
only) with N instances × 4 metrics (CPUUtilization, NetworkIn, NetworkOut, CWAgent mem_used_percent) × D days
at 5 minutes, plus one more hour; runs ``advisor``'s collector in a child process over the D days, then again
over a window one hour later, then the ``--source aws`` audit of the first window from that store (the source,
which finds nothing new to fetch, and the analysis) in a third child. Prints figures and asserts nothing.

    python bench/collect.py                      # 500 instances, 14 days
    python bench/collect.py --instances 50 --days 2
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FASTCW = ROOT.parent / "shared" / "tools" / "moto_fastcw.py"
METRICS = (("AWS/EC2", "CPUUtilization"), ("AWS/EC2", "NetworkIn"), ("AWS/EC2", "NetworkOut"),
           ("CWAgent", "mem_used_percent"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, str(FASTCW), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto_fastcw did not start")


def _seed(instances: int, start: datetime, points: int) -> None:
    import boto3
    from botocore.config import Config

    config = Config(disable_request_compression=True, max_pool_connections=8)  # moto cannot read gzip bodies
    ec2 = boto3.client("ec2", config=config)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=instances, MaxCount=instances,
                                                      InstanceType="m5.xlarge")["Instances"]]
    cloudwatch = boto3.client("cloudwatch", config=config)
    stamps = [start + timedelta(minutes=5 * k) for k in range(points)]

    def put(instance: str) -> None:
        for index, (namespace, name) in enumerate(METRICS):
            data = [{"MetricName": name, "Dimensions": [{"Name": "InstanceId", "Value": instance}],
                     "Timestamp": t, "Value": float((k * 7 + index * 13) % 100)} for k, t in enumerate(stamps)]
            for low in range(0, len(data), 2500):
                cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[low:low + 2500])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, ids))


def _collect(store: str, start: str, end: str) -> None:
    """Child process: one collection; prints its figures as JSON (ru_maxrss is this process's peak)."""
    from collections import Counter

    from advisor.sources.aws.collect import collect_into_store
    from advisor.sources.aws.session import AwsOptions
    from advisor.sources.aws.window import Window
    from advisor.store.cache import Store

    counts: Counter[str] = Counter()

    def count(session) -> None:
        session.events.register("before-send.cloudwatch.GetMetricData",
                                lambda **_: counts.update(["GetMetricData"]))

    window = Window.build(start=datetime.fromisoformat(start), end=datetime.fromisoformat(end))
    began = time.perf_counter()
    with Store(Path(store)) as opened:
        collection = collect_into_store(AwsOptions(configure_session=count), opened, window)
        points = opened.counts()["points"]
    print(json.dumps({
        "wall_s": round(time.perf_counter() - began, 1), "calls": counts["GetMetricData"],
        "planned": collection.planned_calls, "queries": collection.queries, "series": collection.series,
        "period": window.period, "points_per_query": window.points, "stored_points": points,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "problems": collection.problems,
    }))


def _analyse(store: str, start: str, end: str) -> None:
    """Child process: the ``--source aws`` audit of the window from the store; prints its figures as JSON."""
    from advisor.backtest.calibration import calibrated_audit
    from advisor.catalog import load_catalog
    from advisor.engine.features import sample_needs
    from advisor.engine.pipeline import load_rule_set
    from advisor.settings import Settings
    from advisor.sources import load_source
    from advisor.sources.aws import AwsOptions, AwsRequest, Window

    settings = Settings()
    rules = load_rule_set(settings)
    window = Window.build(start=datetime.fromisoformat(start), end=datetime.fromisoformat(end))
    began = time.perf_counter()
    data = load_source("aws", aws=AwsRequest(AwsOptions(), window, Path(store)), needs=sample_needs(settings))
    loaded = time.perf_counter() - began
    result = calibrated_audit(data.inventory, data.analysed, load_catalog(), settings, rules, data.label,
                              data.window, data.problems)
    print(json.dumps({
        "wall_s": round(time.perf_counter() - began, 1), "source_s": round(loaded, 1), "samples": data.samples,
        "resources": len(data.inventory), "recommendations": len(result.recommendations),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


def _child(store: Path, start: datetime, end: datetime, mode: str = "--child") -> dict:
    out = subprocess.run([sys.executable, __file__, mode, str(store), start.isoformat(), end.isoformat()],
                         capture_output=True, text=True, check=True, env=os.environ.copy())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--analyse-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _collect(*args.child)
        return
    if args.analyse_child:
        _analyse(*args.analyse_child)
        return
    port = _free_port()
    os.environ.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "bench",
                       "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"})
    server = _start_server(port)
    try:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        end = now - timedelta(minutes=now.minute % 5) - timedelta(hours=2)  # every period settled
        start = end - timedelta(days=args.days)
        points = round(args.days * 288)
        began = time.perf_counter()
        _seed(args.instances, start, points + 12)  # the window plus the hour of the incremental run
        seeded = time.perf_counter() - began
        with tempfile.TemporaryDirectory() as tmp:
            store = Path(tmp) / "bench.duckdb"
            first = _child(store, start, end)
            second = _child(store, start + timedelta(hours=1), end + timedelta(hours=1))
            analysis = _child(store, start, end, "--analyse-child")
    finally:
        server.terminate()
        server.wait()
    s, p = first["queries"], first["points_per_query"]
    minimum = max(math.ceil(s / 500), math.ceil(s * p / 100_800))
    series = args.instances * len(METRICS)
    print(f"fleet: {args.instances} instances x {len(METRICS)} metrics x {args.days:g} days at 5 min "
          f"(seeded {series * (points + 12):,} datapoints in {seeded:.0f} s)")
    print(f"queries S = {s} (Average+Maximum for CPU and memory, Sum for network) of P = {p} points")
    print(f"GetMetricData calls made: {first['calls']} (planned {first['planned']})")
    print(f"minimum max(ceil(S/500), ceil(S*P/100800)): {minimum}  -> ratio {first['calls'] / minimum:.3f}")
    print(f"one call per resource and metric: {series} GetMetricData calls "
          f"({series * math.ceil(p / 1440)} GetMetricStatistics calls at 1,440 points per call)")
    print(f"wall time: {first['wall_s']} s; datapoints stored: {first['stored_points']:,}")
    print(f"collector peak memory (ru_maxrss): {first['peak_rss_mib']} MiB")
    print(f"incremental run one hour later: {second['calls']} GetMetricData call(s) for {second['queries']} "
          f"queries of the new hour only; wall {second['wall_s']} s; stored {second['stored_points']:,}")
    print(f"--source aws audit of the first window from the store: {analysis['samples']:,} samples of "
          f"{analysis['resources']} resources, {analysis['recommendations']} recommendations; wall "
          f"{analysis['wall_s']} s (source {analysis['source_s']} s); peak memory (ru_maxrss) "
          f"{analysis['peak_rss_mib']} MiB")
    for problem in first["problems"] + second["problems"]:
        print(f"problem: {problem}")


if __name__ == "__main__":
    main()
