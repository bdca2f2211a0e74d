"""The demo report's headline adds monthly figures only: a job's saving enters at its run rate, with its basis."""

from __future__ import annotations

import math

import pytest

from advisor import kinds
from advisor.report.summary import counted_savings_rows, summarize


def test_the_demo_headline_is_the_sum_of_monthly_figures_and_jobs_state_their_basis(demo_audit):
    result = demo_audit  # the demo's 14 days through the pipeline (tests/conftest.py)
    summary = summarize(result)
    per_run = {k.id for k in kinds.all_kinds() if k.per_run}
    jobs = [rec for rec in result.recommendations if rec.kind in per_run]
    assert jobs
    for rec in jobs:  # money per month: the run's cost x runs a month, stated in the evidence
        basis = rec.evidence.model_extra["run_rate"]
        assert basis["runs_in_window"] == 1 and basis["window_days"] == 14.0
        rate = basis["runs_per_month"]  # shown to 3 places: the products agree to 0.1 %
        assert rec.monthly_cost_now == pytest.approx(basis["cost_per_run"] * rate, rel=1e-3, abs=0.05)
        assert rec.monthly_savings == pytest.approx(basis["savings_per_run"] * rate, rel=1e-3, abs=0.05)
    counted = counted_savings_rows(result.recommendations)
    assert summary.total_monthly_savings == pytest.approx(math.fsum(r.monthly_savings for r in counted), abs=0.01)
    assert summary.total_annual_savings == pytest.approx(12 * summary.total_monthly_savings, abs=0.01)
    assert (summary.pricing, summary.discounts) == ("on-demand", [])
