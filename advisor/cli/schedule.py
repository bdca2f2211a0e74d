"""Commands for operators who run advisor on a schedule: ``config show``, ``history`` and ``diff``."""

import json
from typing import Annotated

import typer
from rich.table import Table

from advisor.cli.floor import command_group, console, load_effective_config, print_json, store_path
from advisor.cli.options import ConfigOpt, Format, FormatOpt, StoreOpt
from advisor.display import cell, usd
from advisor.safetext import markup

config_app = command_group("Show the effective settings.\n\nExample: advisor config show")
# duckdb and pandas (the run history) load when a command runs, not at start-up.


@config_app.command("show")
def config_show(config: ConfigOpt = None, output_format: FormatOpt = Format.table) -> None:
    """Print every effective setting and where it came from (default, advisor.toml:LINE, command line).

    Example: advisor config show --config /etc/advisor/advisor.toml
    """
    effective = load_effective_config(config)
    if output_format is Format.json:
        print_json({"file": str(effective.path) if effective.path else None,
                    "settings": [{"setting": key, "value": value, "from": origin}
                                 for key, value, origin in effective.rows()]})
        return
    table = Table(title=f"Effective settings ({effective.path or 'no advisor.toml found'})")
    for column in ("setting", "value", "from"):
        table.add_column(column, overflow="fold")
    for key, value, origin in effective.rows():
        table.add_row(key, markup(json.dumps(value) if not isinstance(value, str) else value), markup(origin))
    console().print(table)


def history(config: ConfigOpt = None, store: StoreOpt = None, output_format: FormatOpt = Format.table) -> None:
    """List recorded audit runs, oldest first.

    Example: advisor history
    """
    from advisor.store.history import History

    effective = load_effective_config(config, store=store)
    with History(store_path(effective).parent, read_only=True) as runs:
        frame = runs.runs()
    if output_format is Format.json:
        print_json(json.loads(frame.to_json(orient="records", date_format="iso")) if len(frame) else [])
        return
    table = Table(title="Recorded runs")
    for column in ("run", "started (UTC)", "source", "resources", "recommendations", "savings/month",
                   "prices as of"):
        table.add_column(column, overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(markup(row.run_id), f"{row.started_at:%Y-%m-%d %H:%M}", markup(cell(row.source)),
                      str(row.resources_seen), str(row.recommendations), usd(row.monthly_savings),
                      markup(cell(row.price_list_date)))
    console().print(table if len(frame) else "no runs recorded yet")


def diff(
    run_a: Annotated[str | None, typer.Argument(help="Older run id or prefix [default: the previous run].")]
    = None,
    run_b: Annotated[str | None, typer.Argument(help="Newer run id or prefix [default: the latest run].")]
    = None,
    output_format: FormatOpt = Format.table,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Show what is new, resolved (and whether it was done) and persisting between two runs.

    Example: advisor diff  (the previous run against the latest)

    Example: advisor diff 20261101 20261124
    """
    from advisor.store.history import History

    effective = load_effective_config(config, store=store)
    with History(store_path(effective).parent, read_only=True) as runs:
        changes = runs.diff(run_a, run_b)
    if output_format is Format.json:
        typer.echo(json.dumps(changes.to_dict(), indent=2, default=str))
        return
    out = console()
    out.print(f"{markup(changes.base)} → {markup(changes.head)}: {len(changes.new)} new, "
              f"{len(changes.resolved)} resolved ({usd(changes.realised_savings)}/month realised), "
              f"{len(changes.persisting)} persisting")
    for title, frame, extra in (("New", changes.new, None), ("Resolved", changes.resolved, "done"),
                                ("Persisting", changes.persisting, "open_days")):
        if frame.empty:
            continue
        table = Table(title=title)
        for column in ("resource", "name", "rule", "action", "current → target", "savings/month",
                       *([extra] if extra else [])):
            table.add_column(column, overflow="fold")
        for row in frame.to_dict("records"):
            cells = [markup(cell(row["resource_id"])), markup(cell(row["name"])), markup(row["rule"]),
                     markup(row["action"]), markup(f"{cell(row['current'])} → {cell(row['target'])}"),
                     usd(row["monthly_savings"])]
            if extra == "done":
                cells.append("yes" if row["done"] else "no")
            elif extra:
                cells.append(f"{row['open_days']:.1f} days")
            table.add_row(*cells)
        out.print(table)
