"""The terminal view of a backtest: per-resource tables and a comparison of the strategies (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, JustifyMethod
from rich.table import Table

from advisor.backtest.replay import BacktestResult, StrategyOutcome
from advisor.backtest.report import sorted_rows
from advisor.display import usd
from advisor.safetext import markup

STATUS_STYLE = {"held": "green", "failed": "bold red"}


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def render(result: BacktestResult, console: Console, limit: int | None = 25) -> None:
    split = result.split
    console.print(f"Backtest of [bold]{markup(result.source_label)}[/]: recommended from "
                  f"{split.train_start:%Y-%m-%d %H:%M} to {split.cutoff:%Y-%m-%d %H:%M} UTC "
                  f"({split.train_days:.1f} days), replayed to {split.test_end:%Y-%m-%d %H:%M} UTC "
                  f"({split.test_days:.1f} days); prices as of {result.price_list_date}")
    for note in split.notes:
        console.print(f"[yellow]note:[/] {markup(note)}")
    if len(result.outcomes) == 1:
        render_resources(result.outcomes[0], console, limit)
    render_comparison(result, console)


def render_resources(outcome: StrategyOutcome, console: Console, limit: int | None) -> None:
    rows = [r for r in sorted_rows(outcome.rows) if r["status"] != "no change"]
    table = Table(title=f"{outcome.name}: recommendations replayed on the later demand")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("Resource", "left"), ("Name", "left"), ("Advice", "left"), ("Status", "left"), ("Failed on", "left"),
        ("CPU over", "right"), ("Worst overshoot", "right"), ("Savings/mo", "right"), ("Oracle", "left"))
    for header, justify in columns:
        table.add_column(header, justify=justify, overflow="fold")
    for row in rows if limit is None else rows[:limit]:
        table.add_row(*_resource_cells(row))
    console.print(table)
    if limit is not None and len(rows) > limit:
        console.print(f"… and {len(rows) - limit} more (see --format json or --out DIR)")


def _resource_cells(row: dict[str, Any]) -> list[str]:
    style = STATUS_STYLE.get(row["status"])
    status = f"[{style}]{row['status']}[/]" if style else row["status"]
    overshoot = row["worst_overshoot_pct"]
    oracle = row["oracle_target"]
    return [  # data strings go through markup: "[red]" or an ESC sequence is shown, never applied
        markup(row["resource_id"]), markup(row["name"]),
        markup(f"{row['action']}: {row['current']} → {row['target'] or '—'}"), status,
        ", ".join(row["failed_dimensions"]), _pct(row["cpu_over_share"], 2),
        "—" if overshoot is None else f"{overshoot:.1f}%", usd(row["monthly_savings"]),
        "—" if oracle is None else markup(f"{oracle} ({usd(row['oracle_savings'])})"),
    ]


def render_comparison(result: BacktestResult, console: Console) -> None:
    table = Table(title=f"Summary ({result.resources_replayed} resources with later data; the oracle covers EC2 "
                        "instances, compared with what was kept on them)")
    for header in ("Strategy", "Recs", "Held", "Hurt", "Hurt share", "Kept EC2/mo", "On failed EC2/mo",
                   "Oracle EC2/mo", "Share of oracle", "Kept other kinds/mo", "Added cost/mo", "Kept per hurt"):
        table.add_column(header, justify="left" if header == "Strategy" else "right")
    for outcome in result.outcomes:
        s = outcome.summary
        table.add_row(outcome.name, str(s["recommendations"]), str(s["statuses"]["held"]), str(s["hurt"]),
                      _pct(s["hurt_share"]), usd(s["savings_kept_on_oracle"]), usd(s["savings_failed_on_oracle"]),
                      usd(s["oracle_savings"]), _pct(s["oracle_share"]), usd(s["savings_kept_other"]),
                      usd(s["added_cost"]), usd(s["savings_per_hurt_resource"]))
    console.print(table)
    for outcome in result.outcomes:
        hurt = outcome.summary["hurt_resources"]
        if hurt:
            console.print(f"{outcome.name}: would have hurt {markup(', '.join(hurt))}")
