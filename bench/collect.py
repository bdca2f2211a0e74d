"""Benchmark of the CloudWatch collector: calls made against the minimum, wall time, peak memory, increments.

Seeds a moto server whose CloudWatch reads are indexed (``../shared/tools/moto_fastcw.py``, read at bench time
only) with N instances × 4 metrics (CPUUtilization, NetworkIn, NetworkOut, CWAgent mem_used_percent) × D days
at 5 minutes, plus one more hour; runs ``advisor``'s collector in a child process over the D days, then again
over a window one hour later. Prints figures and asserts nothing.

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


def _child(store: Path, start: datetime, end: datetime) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(store), start.isoformat(), end.isoformat()],
                         capture_output=True, text=True, check=True, env=os.environ.copy())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _collect(*args.child)
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
    for problem in first["problems"] + second["problems"]:
        print(f"problem: {problem}")


if __name__ == "__main__":
    main()
