"""The terminal view: readable at 80 columns, the report's headline figures, one money format, no "nan"."""

import io
import re

from rich.console import Console

from advisor.display import usd
from advisor.report.page import render_html
from advisor.report.summary import summarize
from advisor.report.terminal import render_summary, render_table


def _printed(result, width: int) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, no_color=True)
    render_summary(summarize(result), console)
    render_table(result, console, limit=None)
    return buffer.getvalue()


def _fleet(make_result, rec):
    return make_result([
        rec("i-0f72591bbaf53e935", name="a-very-long-instance-name-from-a-team-that-likes-names",
            current="m5.2xlarge,c5.2xlarge,r5.2xlarge", target="SPOT_CAPACITY_OPTIMIZED: c7i-flex.2xlarge",
            action="rightsize_accelerator", monthly_cost_now=12345.67, monthly_savings=10987.65),
        rec("i-small", monthly_cost_now=3.0, monthly_cost_after=4.46, monthly_savings=-1.46, action="upsize",
            target="m5.2xlarge"),
        rec("vol-1", name="", target=None, action="stop", monthly_savings=12.5, confidence="low", risk=None),
    ])


def test_at_80_columns_nothing_is_wider_and_money_stays_whole(make_result, rec):
    text = _printed(_fleet(make_result, rec), 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    for amount in ("$10,987.65", "-$1.46", "$12.50"):
        assert amount in text  # on one line, not folded
    assert "Savings/mo" in text


def test_a_wide_terminal_shows_every_column(make_result, rec):
    text = _printed(_fleet(make_result, rec), 200)
    for header in ("Resource", "Name", "Region", "Action", "Now/mo", "Savings/mo", "Confidence", "Risk"):
        assert header in text
    assert "$12,345.67" in text and "rightsize_accelerator" in text


def test_money_is_signed_before_the_dollar_and_nothing_prints_nan(make_result, rec):
    text = _printed(_fleet(make_result, rec), 200)
    assert "-$1.46" in text and "$-" not in text
    assert "nan" not in text.lower()
    assert [usd(v) for v in (-1.456, 0, -0.001, 1234.5, None, float("nan"))] == \
        ["-$1.46", "$0.00", "$0.00", "$1,234.50", "—", "—"]


def test_the_summary_states_the_reports_headline_figures(make_result, rec):
    result = _fleet(make_result, rec)
    page = render_html(result, summarize(result))
    cards = dict(re.findall(r'id="card-([a-z-]+)">([^<]+)<', page))
    summary = _printed(result, 200).split("Recommendations (prices")[0]
    for card in ("spend", "monthly-savings", "annual-savings", "recommendations", "resources-with-savings",
                 "cost-increases", "resources", "skipped"):
        assert cards[card].strip() in summary, card
