"""The terminal view of an audit: a short summary and a rich table of the top recommendations."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from advisor.display import cell, usd
from advisor.model import AuditResult
from advisor.results import Summary
from advisor.safetext import markup

RISK_LABELS = ("very low", "low", "medium", "high", "very high")
# Below this many columns the table keeps what a decision needs (resource, action, change, savings, confidence)
# and drops region, current cost and risk, so no cell wraps into a column of single characters.
# Between 100 and 120 it keeps the confidence too.
WIDE_TABLE = 120
CONFIDENCE_TABLE = 100


def render_summary(summary: Summary, console: Console) -> None:
    """The report's headline figures, in the same words: spend, savings a month and a year, cost increases."""
    spend, savings = summary.monthly_spend_covered, summary.total_monthly_savings
    share = f" ({100 * savings / spend:.1f} % of spend)" if spend > 0 else ""
    console.print(
        f"[bold]{summary.recommendations}[/] recommendations for [bold]{summary.resources_analysed}[/] "
        f"resources ({summary.resources_skipped} skipped) from {markup(summary.source_label)}; "
        f"prices as of {summary.price_list_date} ({summary.pricing})"
    )
    if summary.discounts:
        console.print(f"Discounts applied: {'; '.join(summary.discounts)}", highlight=False)
    for warning in summary.price_warnings:
        console.print(f"[yellow]Price source out of date:[/] {markup(warning)}", highlight=False)
    console.print(
        f"Monthly spend covered {usd(spend)}; savings [bold green]{usd(savings)}[/]/month{share}, "
        f"{usd(summary.total_annual_savings)}/year, on {summary.resources_with_savings} resource(s)",
        highlight=False,
    )
    increases = summary.cost_increases
    if increases.count:
        console.print(f"Cost increases (not netted): [bold]+{usd(increases.monthly)}[/]/month from "
                      f"{increases.count} finding(s)", highlight=False)


def render_table(result: AuditResult, console: Console, limit: int | None = 25) -> None:
    rows = result.recommendations
    wide = console.width >= WIDE_TABLE
    confident = console.width >= CONFIDENCE_TABLE
    table = Table(title=f"Recommendations (prices as of {result.price_list_date})", show_lines=False)
    # Money never wraps. On a narrow terminal long names and instance lists are cut with "…" and the action
    # wraps between words, so the savings column always fits.
    if wide:
        table.add_column("Resource", overflow="fold")
        table.add_column("Name", overflow="fold")
        table.add_column("Region")
        table.add_column("Action")
    else:
        # what is left for the resource and the change: borders and padding, action, savings (and confidence)
        room = max(console.width - (16 + 11 + 11 + 13 if confident else 13 + 11 + 11), 20)
        table.add_column("Resource", overflow="ellipsis", no_wrap=True, max_width=room * 2 // 5)
        table.add_column("Action", min_width=11)
    table.add_column("Current → target", overflow="fold" if wide else "ellipsis", no_wrap=not wide,
                     max_width=None if wide else room - room * 2 // 5)
    if wide:
        table.add_column("Now/mo", justify="right", no_wrap=True)
    table.add_column("Savings/mo", justify="right", no_wrap=True)
    if confident:
        table.add_column("Confidence", no_wrap=True)
    if wide:
        table.add_column("Risk", no_wrap=True)
    shown = rows if limit is None else rows[:limit]
    for row in shown:
        risk = "" if row.risk is None else RISK_LABELS[row.risk]
        estimated = " est." if row.price_estimated else ""
        current, target = cell(row.current), cell(row.target)
        change = f"{current} → {target}" if target else current
        # data strings go through markup: "[red]" or an ESC sequence is shown, never applied
        resource = markup(cell(row.resource_id)) if wide else markup(cell(row.name) or cell(row.resource_id))
        cells = [resource, markup(cell(row.name)), markup(cell(row.region))] if wide else [resource]
        cells += [cell(row.action) if wide else cell(row.action).replace("_", " "), markup(change)]
        cells += [usd(row.monthly_cost_now) + estimated] if wide else []
        cells += [usd(row.monthly_savings)] + ([cell(row.confidence)] if confident else [])
        cells += [risk] if wide else []
        table.add_row(*cells)
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
        f"Since run {markup(changes['base'])}: {len(changes['new'])} new, {len(resolved)} resolved "
        f"({len(done)} done, {changes.get('gone', 0)} gone, {usd(changes['realised_savings'])}/month realised), "
        f"{len(changes['persisting'])} persisting"
    )
