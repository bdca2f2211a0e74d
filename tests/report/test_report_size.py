"""A 10,000-finding report stays small enough to send (an e-mail attachment limit of 20 MB)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from advisor.hourly import HourlyBuckets
from advisor.model import AuditResult
from advisor.report.page import render_html
from advisor.report.summary import summarize

LIMIT = 20_000_000  # bytes
METRICS = ("cpu", "memory", "network_in", "network_out")
START = pd.Timestamp("2026-11-02", tz="UTC")
DAYS = 14
TYPES = (("m5.4xlarge", 16, 64.0, 560.64), ("c5.2xlarge", 8, 16.0, 248.2), ("r5.2xlarge", 8, 64.0, 367.92))
TEAMS = ("search", "ads", "ml-platform", "data-eng", "payments", "web", "research", "recommendations")


def _stats(rng: np.random.Generator, level: float) -> dict[str, float]:
    mean = level * rng.uniform(0.3, 0.6)
    return {"mean": round(mean, 2), "p50": round(mean * 0.97, 2), "p95": round(level * 0.8, 2),
            "p99": round(level * 0.93, 2), "max": round(level, 2)}


def _finding(k: int, rng: np.random.Generator, rec: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """One finding shaped like the engine's: every evidence section, three options, tags; its numbers its own."""
    current, vcpus, memory_gib, cost = TYPES[k % len(TYPES)]
    cpu, memory = rng.uniform(5, 35), rng.uniform(10, 50)
    stats = {"cpu": _stats(rng, cpu), "memory": _stats(rng, memory),
             "network_in": _stats(rng, rng.uniform(1e5, 3e7)), "network_out": _stats(rng, rng.uniform(1e5, 3e7))}
    forecast = {metric: {"trend_per_day": round(rng.normal(0, 0.05), 2), "trend_significant": False,
                         "forecast": stats[metric]["p99"], "upper": round(stats[metric]["max"] * 1.05, 2),
                         "weekly_peak": round(rng.uniform(0, 2), 2), "horizon_days": 30,
                         "demand_raised_by": round(rng.uniform(0, 1), 2)} for metric in ("cpu", "memory")}
    options = [{"instance_type": f"{family}.{size}", "label": label, "hourly_price": round(cost * share / 730, 4),
                "monthly_cost": round(cost * share, 2), "monthly_savings": round(cost * (1 - share), 2),
                "projected_utilization": {"cpu": round(cpu / share, 1), "memory": round(memory / share, 1)},
                "risk": 2, "vcpus": int(vcpus * share), "memory_gib": memory_gib * share, "price_estimated": False,
                "rank": rank}
               for rank, (family, size, label, share) in enumerate((("m6a", "xlarge", "any family", 0.25),
                                                                    ("m5", "xlarge", "same family", 0.27),
                                                                    ("m6g", "xlarge", "graviton", 0.22)), 1)]
    evidence = {
        "window": "2026-11-02 00:00 to 2026-11-15 23:55 UTC", "hours_observed": 336.0, "days_observed": 14.0,
        "coverage": 1.0, "datapoints": dict.fromkeys(METRICS, 4032), "stats": stats, "forecast": forecast,
        "rule": "ec2-overprovisioned", "rule_file": "ec2.yaml",
        "condition": "(state == running and cpu_demand < 40 and (memory_demand < 60 or has_memory_data == False))",
        "thresholds": {"cpu_below": 40.0, "memory_below": 60.0},
        "policy": {m: {"statistic": "p99" if m in ("cpu", "gpu") else "max", "headroom": 0.2}
                   for m in ("cpu", "memory", "gpu", "gpu_memory")},
        "demand": {"vcpus": round(vcpus * cpu / 100 * 1.2, 3), "memory": round(memory_gib * memory / 100 * 1.2, 3),
                   "network": round(rng.uniform(0, 0.1), 3)},
        "capacity": {"vcpus": float(vcpus), "memory_gib": memory_gib, "gpus": 0.0, "gpu_memory_gib": 0.0},
        "notes": [f"The 30-day forecast raises cpu demand from {cpu:.0f}% to {cpu + 1:.0f}% (recurring weekly peak)"],
    }
    return rec(f"i-{k:017x}", name=f"worker-{k}", tags={"Name": f"worker-{k}", "team": TEAMS[k % len(TEAMS)]},
               current=current, target=options[0]["instance_type"], monthly_cost_now=cost,
               monthly_cost_after=options[0]["monthly_cost"], monthly_savings=options[0]["monthly_savings"],
               confidence_score=round(rng.uniform(0.5, 0.99), 2), projected_utilization=options[0][
                   "projected_utilization"], evidence=evidence, options=options,
               rationale=f"CPU p99 {cpu:.0f}% and memory max {memory:.0f}% of {current} over 14 days (forecast "
                         f"peaks {cpu + 1:.0f}% / {memory:.0f}%); a smaller type holds the demand with headroom.")


def _hourly(ids: list[str], rng: np.random.Generator) -> HourlyBuckets:
    """Hourly maxima and means of every metric of every resource over the 14 days, as a streamed source keeps
    them."""
    hours = DAYS * 24
    series = len(ids) * len(METRICS)
    maxes = rng.uniform(0, 100, (series, hours)).astype(np.float32)
    maxes[2::4] *= 3e5  # network bytes/s
    maxes[3::4] *= 3e5
    return HourlyBuckets(np.repeat(np.array(ids, dtype=object), len(METRICS)),
                         np.tile(np.array(METRICS, dtype=object), len(ids)), int(START.timestamp()) // 3600,
                         maxes, maxes * np.float32(0.6), np.full((series, hours), 12, dtype=np.uint16))


def test_a_ten_thousand_finding_report_is_under_twenty_megabytes(
        rec: Callable[..., dict[str, Any]], make_result: Callable[..., AuditResult]) -> None:
    rng = np.random.default_rng(11)
    rows = [_finding(k, rng, rec) for k in range(10_000)]
    ids = [row["resource_id"] for row in rows]
    features = pd.DataFrame({"vcpus": [TYPES[k % 3][1] for k in range(len(ids))],
                             "memory_gib": [TYPES[k % 3][2] for k in range(len(ids))],
                             **{f"{m}_{c}": rng.uniform(5, 40, len(ids)) for m in ("cpu", "memory")
                                for c in ("trend_used", "forecast", "upper", "demand")}},
                            index=pd.Index(ids, name="resource_id"))
    result = make_result(rows, features=features)
    result.hourly = _hourly(ids, rng)
    html = render_html(result, summarize(result)).encode("utf-8")
    assert len(html) < LIMIT, f"{len(html) / 1e6:.1f} MB"
