"""``advisor backtest``: recommend from the first part of the history and replay the rest on the advice."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from advisor.cli.aws_request import load_configured_source
from advisor.cli.floor import console, load_effective_config, writable_dir
from advisor.cli.options import ConfigOpt, DisableOpt, RulesOpt, SourceOpt
from advisor.errors import ConfigError
from advisor.safetext import markup
from advisor.settings import Settings

if TYPE_CHECKING:
    from advisor.backtest.strategy import Strategy

ALL = "all"


class BacktestFormat(StrEnum):
    table = "table"
    json = "json"


def backtest(
    source: SourceOpt = None,
    demo: Annotated[bool, typer.Option("--demo", help="Backtest the bundled demo fleet (same as --source demo).")]
    = False,
    strategy: Annotated[list[str] | None, typer.Option(
        "--strategy", help="ours, compute-optimizer, percentile-buffer, trusted-advisor, naive-average, or all; "
        "repeatable. See --list-strategies.")] = None,
    train_days: Annotated[float | None, typer.Option("--train-days", help="Days of history to recommend from "
                                                     "(default 14; half the history if it is shorter than 28 "
                                                     "days).")] = None,
    test_days: Annotated[float | None, typer.Option("--test-days", help="Days after the cut-off to replay "
                                                    "(default 14).")] = None,
    cutoff: Annotated[str | None, typer.Option("--cutoff", help="Split here (ISO 8601, UTC if no offset) instead "
                                               "of after --train-days.")] = None,
    output_format: Annotated[BacktestFormat, typer.Option("--format", "-f", help="table (terminal) or json "
                                                          "(machine-readable, on stdout).")] = BacktestFormat.table,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Also write backtest.html and backtest.json "
                                                 "to this directory.")] = None,
    config: ConfigOpt = None,
    rules: RulesOpt = None,
    disable_rule: DisableOpt = None,
    list_strategies: Annotated[bool, typer.Option("--list-strategies", help="Describe every strategy and its "
                                                  "settings, then exit.")] = False,
) -> None:
    """Prove the advice on your own history: recommend from the first days, replay the later ones on each target.

    Held = CPU over the target in at most 1 % of samples, memory and GPU memory never over, IOPS within the limit.

    'ours' runs with the effective settings, as `advisor audit` does: advisor.toml's [sizing], [rules], [filters],
    [discounts] and [spot], with --rules and --disable-rule added.

    Example: advisor backtest --demo --strategy all --out ./backtest
    """
    # The backtest, the catalog and the sources (pandas, plotly) load when the command runs, not at start-up.
    from advisor.backtest.registry import STRATEGIES
    from advisor.backtest.replay import run_backtest
    from advisor.backtest.report import to_json, write_outputs
    from advisor.backtest.split import plan_split
    from advisor.backtest.terminal import render
    from advisor.catalog import load_catalog

    if list_strategies:
        _print_strategies(STRATEGIES)
        return
    cfg = load_effective_config(config, source=source, demo=demo, rules=rules, disable_rule=disable_rule)
    chosen = _strategies(strategy or ["ours"], cfg.settings)
    spec = cfg.config.source.spec
    if not spec:
        raise ConfigError("say what to backtest: --demo, or --source files:DIR (or [source] spec in advisor.toml)")
    target_dir = writable_dir(out_dir) if out_dir is not None else None
    data = load_configured_source(cfg, spec, None, None, quiet=output_format is BacktestFormat.json)
    split = plan_split(data.metrics, train_days, test_days, cutoff)
    result = run_backtest(data.inventory, data.metrics, load_catalog(), split, chosen, source_label=data.label)
    if output_format is BacktestFormat.json:
        sys.stdout.write(to_json(result) + "\n")
    else:
        render(result, console())
    if target_dir is not None:
        written = write_outputs(result, target_dir)
        console(stderr=output_format is BacktestFormat.json).print(
            f"Backtest report: {', '.join(str(p) for p in written)}")


def _strategies(names: list[str], settings: Settings) -> list[Strategy]:
    """Strategy objects for the names given (``all`` = every one); 'ours' takes the effective settings."""
    from advisor.backtest.ours import Ours
    from advisor.backtest.registry import STRATEGIES, get_strategy
    from advisor.engine.pipeline import load_rule_set

    expanded = list(STRATEGIES) if ALL in names else list(dict.fromkeys(names))
    chosen = [get_strategy(name) for name in expanded]
    if any(isinstance(s, Ours) for s in chosen):
        load_rule_set(settings)  # validate the rule packs and overrides before reading any data
    return [Ours(settings) if isinstance(s, Ours) else s for s in chosen]


def _print_strategies(strategies: dict[str, type[Strategy]]) -> None:
    for cls in strategies.values():
        info = cls.describe()
        console().print(f"[bold]{info['name']}[/]: {markup(info['summary'])}")
        for name, setting in info["settings"].items():
            console().print(f"    {name} = {setting['default']!r}  {markup(setting['description'])}", highlight=False)

