"""Engine benchmark: analysis time and peak memory for synthetic fleets (14 days at 5 minutes, 4 metrics each).

Usage: python bench/engine.py [--sizes 1000 10000]

Each size runs in a fresh subprocess so its peak RSS is its own. Prints one line per size; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

METRICS = ("cpu", "memory", "network_in", "network_out")
TYPES = ("m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge", "c5.xlarge", "c5.2xlarge", "r5.xlarge", "r5.2xlarge",
         "m6i.2xlarge", "c6i.4xlarge")
STEPS = 14 * 288


def synthetic_fleet(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n EC2 instances with a level, a daily cycle, noise and (for some) a trend, all vectorized."""
    from advisor.model import normalize_inventory

    rng = np.random.default_rng(seed)
    ids = np.array([f"i-{i:017x}" for i in range(n)])
    inventory = normalize_inventory(pd.DataFrame({
        "resource_id": ids, "kind": "ec2_instance", "region": rng.choice(["us-east-1", "eu-west-1"], n),
        "account": "123456789012", "instance_type": rng.choice(TYPES, n),
    }))
    t = np.arange(STEPS, dtype=np.float32)
    daily = np.sin(2 * np.pi * t / 288).astype(np.float32)
    blocks = []
    for metric in METRICS:
        scale = 100.0 if metric in ("cpu", "memory") else 5e6
        level = rng.uniform(0.02, 0.6, n).astype(np.float32)[:, None]
        trend = (rng.uniform(0, 1, n) < 0.1) * rng.uniform(0, 0.02, n)
        values = level * (1 + 0.3 * daily[None, :]) + trend.astype(np.float32)[:, None] * t[None, :] / 288
        values += rng.normal(0, 0.03, (n, STEPS)).astype(np.float32)
        blocks.append(np.clip(values, 0, 1) * scale)
    # rows ordered by resource, metric, time, as a source writes them
    values = np.stack(blocks, axis=1).reshape(-1)
    rid = pd.Categorical.from_codes(np.repeat(np.arange(n), len(METRICS) * STEPS), categories=ids)
    metric = pd.Categorical.from_codes(np.tile(np.repeat(np.arange(len(METRICS)), STEPS), n), categories=METRICS)
    start = np.datetime64("2026-11-02T00:00:00", "ns")
    stamps = start + np.arange(STEPS) * np.timedelta64(300, "s")
    metrics = pd.DataFrame({"resource_id": rid, "metric": metric,
                            "timestamp": pd.DatetimeIndex(np.tile(stamps, n * len(METRICS)), tz="UTC"),
                            "value": values.astype(np.float64)})
    return inventory, metrics


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(n: int) -> dict:
    from advisor.catalog import load_catalog
    from advisor.engine.pipeline import audit

    inventory, metrics = synthetic_fleet(n)
    catalog = load_catalog()
    rss_before = _peak_rss_mib()
    frame_mib = (metrics.memory_usage(deep=True).sum() + inventory.memory_usage(deep=True).sum()) / 2**20
    started = time.perf_counter()
    result = audit(inventory, metrics, catalog, source_label="bench")
    elapsed = time.perf_counter() - started
    return {"resources": n, "samples": len(metrics), "seconds": round(elapsed, 2),
            "peak_rss_mib": round(_peak_rss_mib()), "peak_after_generating_mib": round(rss_before),
            "frames_mib": round(frame_mib),
            "recommendations": len(result.recommendations)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    print(f"{'resources':>10} {'samples':>12} {'analysis s':>11} {'s/1k res':>9} {'peak RSS MiB':>13} "
          f"{'peak after gen.':>16} {'frames MiB':>11} {'recs':>6}")
    for n in args.sizes:
        line = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True, capture_output=True,
                              text=True).stdout.strip().splitlines()[-1]
        r = json.loads(line)
        print(f"{r['resources']:>10} {r['samples']:>12,} {r['seconds']:>11.2f} {r['seconds'] / n * 1000:>9.2f} "
              f"{r['peak_rss_mib']:>13,} {r['peak_after_generating_mib']:>16,} {r['frames_mib']:>11,} "
              f"{r['recommendations']:>6}")


if __name__ == "__main__":
    main()
