"""Calibration benchmark: what calibrating the headroom on the fleet's own history adds to an audit's time.

Usage: python bench/calibration.py [--sizes 200 1000] [--days 28]

Synthetic EC2 fleets (``bench/engine.py``'s generator: a level, a daily cycle, noise and for one in ten a trend; cpu,
memory, network in and out at 5 minutes) over ``--days`` days. Each size runs in a fresh subprocess: the plain audit
of the whole history, then the calibrated one (the grid of ``advisor.backtest.calibration``, replaying the last
14 days). Prints one line per size; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine  # noqa: E402  (bench/engine.py: the synthetic fleet)


def fleet(n: int, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    engine.STEPS = days * 288
    return engine.synthetic_fleet(n)


def run_one(n: int, days: int) -> dict:
    from advisor.backtest.calibration import calibrated_audit
    from advisor.catalog import load_catalog
    from advisor.engine.pipeline import audit, load_rule_set
    from advisor.settings import Settings

    inventory, metrics = fleet(n, days)
    catalog, settings = load_catalog(), Settings()
    rules = load_rule_set(settings)
    started = time.perf_counter()
    audit(inventory, metrics, catalog, settings, rules=rules)
    plain = time.perf_counter() - started
    started = time.perf_counter()
    result = calibrated_audit(inventory, metrics, catalog, settings, rules)
    calibrated = time.perf_counter() - started
    calibration = result.calibration
    assert calibration is not None
    chosen = calibration.chosen
    return {"resources": n, "samples": len(metrics), "plain_s": round(plain, 1), "calibrated_s": round(calibrated, 1),
            "points": len(calibration.points), "headroom": calibration.headroom,
            "hurt": None if chosen is None else chosen.hurt, "status": calibration.status,
            "peak_rss_mib": round(engine._peak_rss_mib())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.days)))
        return
    print("| resources | samples | audit s | calibrated audit s | points | chosen CPU / memory headroom | hurt "
          "| peak RSS MiB |")
    print("|---:|---:|---:|---:|---:|---|---:|---:|")
    for n in args.sizes:
        line = subprocess.run([sys.executable, __file__, "--one", str(n), "--days", str(args.days)], check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        r = json.loads(line)
        headroom = f"{r['headroom']['cpu']:.0%} / {r['headroom']['memory']:.0%}"
        print(f"| {r['resources']:,} | {r['samples']:,} | {r['plain_s']} | {r['calibrated_s']} | {r['points']} "
              f"| {headroom} ({r['status']}) | {r['hurt']} | {r['peak_rss_mib']:,} |", flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
