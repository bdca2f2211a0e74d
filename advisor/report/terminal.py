"""The terminal view of an audit: a short summary and a rich table of the top recommendations."""

from __future__ import annotations

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

from advisor.model import AuditResult
from advisor.results import Summary

RISK_LABELS = ("very low", "low", "medium", "high", "very high")


def _money(value: float) -> str:
    return f"${value:,.2f}"


def render_summary(summary: Summary, console: Console) -> None:
    console.print(
        f"[bold]{summary.recommendations}[/] recommendations for [bold]{summary.resources_analysed}[/] "
        f"resources ({summary.resources_skipped} skipped) from {escape(summary.source_label)}; "
        f"monthly spend covered {_money(summary.monthly_spend_covered)}, savings found "
        f"[bold green]{_money(summary.total_monthly_savings)}[/]/month "
        f"(prices as of {summary.price_list_date})"
    )


def render_table(result: AuditResult, console: Console, limit: int | None = 25) -> None:
    rows = result.recommendations
    table = Table(title=f"Recommendations (prices as of {result.price_list_date})", show_lines=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("Resource", "left"), ("Name", "left"), ("Region", "left"), ("Action", "left"), ("Current → target", "left"),
        ("Now/mo", "right"), ("Savings/mo", "right"), ("Confidence", "left"), ("Risk", "left"))
    for header, justify in columns:
        table.add_column(header, justify=justify, overflow="fold")
    shown = rows if limit is None else rows[:limit]
    for rec in shown:
        risk = "" if rec.risk is None else RISK_LABELS[rec.risk]
        estimated = " est." if rec.price_estimated else ""
        table.add_row(  # user-controlled strings are escaped so a name like "[red]" is shown, not applied
            escape(rec.resource_id), escape(rec.name), rec.region, rec.action,
            escape(f"{rec.current} → {rec.target}" if rec.target else rec.current),
            _money(rec.monthly_cost_now) + estimated,
            _money(rec.monthly_savings), rec.confidence, risk,
        )
    console.print(table)
    if limit is not None and len(rows) > limit:
        console.print(f"… and {len(rows) - limit} more (see the HTML report or --format csv/json)")


def render_changes(result: AuditResult, console: Console) -> None:
    """One line on what changed since the previous recorded run (nothing on the first run)."""
    changes = result.changes
    if not changes or not changes.get("base"):
        return
    resolved = changes["resolved"]
    done = [r for r in resolved if r.get("done")]
    console.print(
        f"Since run {escape(changes['base'])}: {len(changes['new'])} new, {len(resolved)} resolved "
        f"({len(done)} done, {changes.get('gone', 0)} gone, {_money(changes['realised_savings'])}/month realised), "
        f"{len(changes['persisting'])} persisting"
    )
