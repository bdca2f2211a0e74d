"""Report benchmark: render time, file size and browser load times of the HTML report for synthetic fleets.

Usage: python bench/report.py [--sizes 1000 10000] [--runs 3] [--keep DIR]

The worst case for the report: every resource of the fleet has a recommendation (with evidence shaped like the
engine's and three options) and a drill-down; 14 days of 5-minute samples of cpu, memory, network_in and
network_out per resource, plus gpu and gpu_memory on one resource in ten. The audit itself is not run (see
bench/engine.py). Load times come from the page's performance marks in Debian's chromium (headless, Playwright),
each run in a fresh browser context, median of ``--runs``:

* table: navigation start -> the table's first rows painted,
* charts: -> the overview charts drawn (plotly.js runs once the table is painted),
* drill: -> the first drill-down chart drawn, the first row being expanded as soon as it is visible,
* drill warm: one more row expanded once the page is idle (decode + draw).

Prints one line per size; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.model import SKIPPED_COLUMNS, AuditResult
from advisor.report.page import write_html
from advisor.report.summary import summarize
from advisor.results import Recommendation

CHROMIUM = "/usr/bin/chromium"
STEPS = 14 * 288
START = pd.Timestamp("2026-11-02", tz="UTC")
TYPES = (("m5.2xlarge", 8, 32.0, 0.384), ("m5.4xlarge", 16, 64.0, 0.768), ("c5.4xlarge", 16, 32.0, 0.68),
         ("r5.2xlarge", 8, 64.0, 0.504), ("g5.4xlarge", 16, 64.0, 1.624))
OPTION_SIZES = (("xlarge", "same family", 0.25), ("large", "any family", 0.125), ("2xlarge", "graviton", 0.5))
TEAMS = ("search", "ads", "ml-platform", "data-eng", "payments", "web", "research", "recommendations")


def _evidence(cpu: float, memory: float, vcpus: int, memory_gib: float) -> dict:
    stats = {metric: {"mean": round(level * 0.6, 2), "p50": round(level * 0.55, 2), "p95": round(level * 0.9, 2),
                      "p99": round(level, 2), "max": round(level * 1.1, 2)}
             for metric, level in (("cpu", cpu), ("memory", memory), ("network_in", 2.1e6), ("network_out", 1.3e6))}
    return {
        "window": "2026-11-02 00:00 to 2026-11-15 23:55 UTC", "hours_observed": 336.0, "days_observed": 14.0,
        "coverage": 1.0, "datapoints": {m: STEPS for m in stats}, "stats": stats,
        "forecast": {m: {"trend_per_day": 0.02, "trend_significant": False, "forecast": stats[m]["p99"],
                         "upper": stats[m]["p99"] + 1.5, "weekly_peak": 1.5, "horizon_days": 30}
                     for m in ("cpu", "memory")},
        "rule": "ec2-overprovisioned", "rule_file": "ec2.yaml",
        "condition": "(state == running and has_memory_data == True and cpu_demand < 40 and memory_demand < 60)",
        "thresholds": {"cpu_below": 40, "memory_below": 60},
        "policy": {m: {"statistic": "p99", "headroom": 0.2} for m in ("cpu", "memory", "gpu", "gpu_memory")},
        "demand": {"vcpus": round(vcpus * cpu / 100 * 1.2, 3), "memory": round(memory_gib * memory / 100 * 1.2, 3)},
        "capacity": {"vcpus": float(vcpus), "memory_gib": memory_gib, "gpus": None, "gpu_memory_gib": None},
        "notes": [],
    }


def synthetic_result(n: int, seed: int = 7) -> AuditResult:
    """n resources, each with a recommendation and a 14-day history (see the module docstring)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"i-{k:017x}" for k in range(n)])
    kind = rng.integers(0, len(TYPES), n)
    cpu = rng.uniform(2, 35, n)
    memory = rng.uniform(10, 55, n)
    gpu = np.arange(n) % 10 == 0
    rows = []
    for k in range(n):
        name, vcpus, memory_gib, hourly = TYPES[kind[k]]
        now = round(hourly * 730, 2)
        options = [{"instance_type": f"{name.split('.')[0]}.{size}", "label": label,
                    "hourly_price": round(hourly * f, 4), "monthly_cost": round(now * f, 2),
                    "monthly_savings": round(now * (1 - f), 2),
                    "projected_utilization": {"cpu": round(cpu[k] * 1.2 / f, 1),
                                              "memory": round(memory[k] * 1.2 / f, 1)},
                    "risk": r, "vcpus": int(vcpus * f), "memory_gib": memory_gib * f, "rank": r + 1}
                   for r, (size, label, f) in enumerate(OPTION_SIZES)]
        rows.append({
            "resource_id": ids[k], "kind": "ec2_instance", "account": f"{111111111111 * (1 + k % 3)}",
            "region": ("us-east-1", "eu-west-1", "us-west-2")[k % 3], "name": f"worker-{k}",
            "tags": {"Name": f"worker-{k}", "team": TEAMS[k % len(TEAMS)], "env": ("prod", "staging")[k % 2]},
            "rule": "ec2-overprovisioned", "title": "Over-provisioned EC2 instance", "action": "downsize",
            "severity": "medium", "current": name, "target": options[0]["instance_type"], "monthly_cost_now": now,
            "monthly_cost_after": options[0]["monthly_cost"], "monthly_savings": options[0]["monthly_savings"],
            "confidence": ("high", "medium", "low")[k % 3], "confidence_score": (0.9, 0.7, 0.5)[k % 3],
            "risk": 1, "projected_utilization": options[0]["projected_utilization"],
            "evidence": _evidence(cpu[k], memory[k], vcpus, memory_gib),
            "rationale": f"CPU p99 {cpu[k]:.0f}% and memory max {memory[k]:.0f}% of {name} over 14 days "
                         "(forecast peaks within 2 points); a smaller type holds the demand with headroom.",
            "options": options, "price_estimated": False, "price_list_date": "2026-07-05",
        })
    recs = [Recommendation.model_validate(row) for row in rows]
    features = pd.DataFrame({
        "kind": "ec2_instance", "cpu_p99": cpu, "memory_max": memory * 1.1, "gpu_p99": np.where(gpu, cpu, np.nan),
        "coverage": rng.uniform(0.85, 1.0, n), "vcpus": [TYPES[t][1] for t in kind],
        "memory_gib": [TYPES[t][2] for t in kind], "monthly_cost": [rec.monthly_cost_now for rec in recs],
        **{f"{m}_{c}": v for m, level in (("cpu", cpu), ("memory", memory))
           for c, v in (("trend_used", 0.0), ("forecast", level), ("upper", level + 1.5), ("demand", level + 1.5))},
    }, index=pd.Index(ids, name="resource_id"))
    return AuditResult(
        recommendations=recs, skipped=pd.DataFrame(columns=list(SKIPPED_COLUMNS)),
        inventory=pd.DataFrame({"resource_id": ids, "kind": "ec2_instance"}), features=features,
        metrics=_metrics(ids, cpu, memory, gpu, rng), window_start=START,
        window_end=START + pd.Timedelta(minutes=5 * (STEPS - 1)), price_list_date="2026-07-05",
        source_label=f"bench: {n:,} synthetic resources", settings={"sizing": {"horizon_days": 30}},
    )


def _metrics(ids: np.ndarray, cpu: np.ndarray, memory: np.ndarray, gpu: np.ndarray,
             rng: np.random.Generator) -> pd.DataFrame:
    """Long metrics frame, vectorized: a level, a daily cycle and noise per series."""
    daily = np.sin(2 * np.pi * np.arange(STEPS) / 288).astype(np.float32)
    blocks = []  # (resource codes, metric name, values)
    everyone = np.arange(len(ids))
    gpu_ids = np.flatnonzero(gpu)
    for metric, who, level, scale in (("cpu", everyone, cpu, 1.0), ("memory", everyone, memory, 1.0),
                                      ("network_in", everyone, np.full(len(ids), 2e6), 1.0),
                                      ("network_out", everyone, np.full(len(ids), 1.2e6), 1.0),
                                      ("gpu", gpu_ids, cpu, 1.5), ("gpu_memory", gpu_ids, memory, 1.0)):
        base = (level[who] * scale * 0.7).astype(np.float32)[:, None]
        noise = rng.normal(0, 1, (len(who), STEPS)).astype(np.float32)
        values = base * (1 + 0.25 * daily[None, :]) + noise * base / 12
        if metric in ("cpu", "memory", "gpu", "gpu_memory"):
            values = np.clip(values, 0, 100)
        blocks.append((np.repeat(who, STEPS), metric, np.maximum(values, 0).reshape(-1)))
    names = [metric for _, metric, _ in blocks]
    stamps = (START.value + np.arange(STEPS, dtype=np.int64) * 300 * 10**9)
    return pd.DataFrame({
        "resource_id": pd.Categorical.from_codes(np.concatenate([codes for codes, _, _ in blocks]), categories=ids),
        "metric": pd.Categorical.from_codes(np.concatenate([np.full(len(codes), k, dtype=np.int8)
                                                            for k, (codes, _, _) in enumerate(blocks)]),
                                            categories=names),
        "timestamp": pd.DatetimeIndex(np.concatenate([np.tile(stamps, len(codes) // STEPS)
                                                      for codes, _, _ in blocks]), tz="UTC"),
        "value": np.concatenate([values for _, _, values in blocks]).astype(np.float64),
    })


def measure(path: Path, runs: int) -> dict[str, float]:
    """Median browser timings in seconds (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    marks: dict[str, list[float]] = {"table": [], "charts": [], "drill": [], "drill warm": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(path.as_uri(), wait_until="commit", timeout=120_000)
            page.locator("#rec-body tr.rec .toggle").first.click(timeout=120_000)
            page.wait_for_function("performance.getEntriesByName('advisor:drill').length > 0", timeout=120_000)
            page.wait_for_selector("body[data-charts-ready]", state="attached")
            seen = page.evaluate("Object.fromEntries(performance.getEntriesByType('mark')"
                                 ".map(m => [m.name, m.startTime / 1000]))")
            marks["table"].append(seen["advisor:table"])
            marks["charts"].append(seen["advisor:charts"])
            marks["drill"].append(seen["advisor:drill"])
            marks["drill warm"].append(page.evaluate("""() => {
                const started = performance.now();
                document.querySelectorAll('#rec-body tr.rec .toggle')[5].click();
                return (performance.now() - started) / 1000; }"""))
            context.close()
        browser.close()
    return {name: statistics.median(values) for name, values in marks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the reports here instead of a temporary directory")
    args = parser.parse_args()
    print(f"{'resources':>10} {'samples':>12} {'render s':>9} {'file MB':>8} {'table s':>8} {'charts s':>9} "
          f"{'drill s':>8} {'drill warm s':>13}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            result = synthetic_result(n)
            started = time.perf_counter()
            path = write_html(result, folder / f"report-{n}.html", summarize(result))
            render = time.perf_counter() - started
            samples = len(result.metrics)
            del result
            t = measure(path, args.runs)
            print(f"{n:>10,} {samples:>12,} {render:>9.1f} {path.stat().st_size / 1e6:>8.1f} {t['table']:>8.2f} "
                  f"{t['charts']:>9.2f} {t['drill']:>8.2f} {t['drill warm']:>13.3f}", flush=True)


if __name__ == "__main__":
    main()
