"""``advisor audit`` (report, exports, history) and ``advisor recommend`` (print or export only)."""

from __future__ import annotations

import io
import math
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from advisor.cli.aws_request import (
    aws_request,
    graceful_termination,
    load_configured_source,
    print_problems,
    progress_shown,
)
from advisor.cli.floor import (
    EXIT_SAVINGS_FOUND,
    PIPE_WIDTH,
    console,
    load_effective_config,
    store_path,
    writable_dir,
)
from advisor.cli.options import (
    ConfigOpt,
    CpuHeadroomOpt,
    CpuStatOpt,
    DaysOpt,
    DemoOpt,
    DisableOpt,
    EndOpt,
    ExecutorOpt,
    ExternalIdOpt,
    FailOpt,
    GroupTagOpt,
    HorizonOpt,
    LogFileOpt,
    MemHeadroomOpt,
    MinHoursOpt,
    OutOpt,
    ProfileOpt,
    RegionOpt,
    RoleOpt,
    RulesOpt,
    SchedulerOpt,
    SourceOpt,
    StartOpt,
    StoreOpt,
    WorkersOpt,
)
from advisor.config import EffectiveConfig
from advisor.display import usd
from advisor.errors import ConfigError
from advisor.fsutil import atomic_write_text
from advisor.logs import configure, event
from advisor.outputs import write_outputs
from advisor.runlock import RunLock
from advisor.safetext import markup

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule
    from advisor.model import AuditResult
    from advisor.results import Summary

# The engine, the sources, the report and the history (pandas, numpy, scikit-learn, plotly, duckdb) load when a
# command runs, not at start-up, so `advisor --help` answers at once.


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


def run_audit(config: EffectiveConfig, start: str | None = None, end: str | None = None,
              quiet: bool = False) -> AuditResult:
    from advisor.backtest.calibration import calibrated_audit
    from advisor.catalog import load_catalog
    from advisor.engine.features import sample_needs
    from advisor.engine.pipeline import load_rule_set

    settings = config.settings
    spec = config.config.source.spec
    if not spec:
        raise ConfigError("say what to audit: --demo, --source files:DIR or --source aws (or [source] spec in "
                          "advisor.toml)")
    rules = load_rule_set(settings)  # validate rules before reading any data
    executor = config.config.executor
    if executor.kind == "dask" or (executor.workers or 1) > 1 or executor.scheduler:
        return _sharded_audit(config, spec, rules, start, end, quiet)
    data = load_configured_source(config, spec, start, end, quiet, sample_needs(settings))
    event("source_loaded", source=data.label, resources=len(data.inventory), samples=data.samples,
          problems=len(data.problems))
    # With three weeks of history or more, the headroom is calibrated on the fleet's own replayed history first.
    fixed = [dim for dim in ("cpu", "memory") if f"sizing.{dim}.headroom_pct" in config.origins]
    return data.add_rejected(calibrated_audit(data.inventory, data.analysed, load_catalog(), settings, rules,
                                              data.label, data.window, data.problems, fixed))


def _sharded_audit(config: EffectiveConfig, spec: str, rules: list[LoadedRule], start: str | None,
                   end: str | None, quiet: bool) -> AuditResult:
    """``--executor dask`` or ``--workers N``: one task per (account, region) shard, merged (docs/scale.md)."""
    from advisor.executor.run import plan_aws, plan_source, runner_of, sharded_audit
    from advisor.sources.aws.window import parse_moment

    runner = runner_of(config.config.executor)  # a missing Dask is a configuration error before any reading
    if spec == "aws":
        request = aws_request(config.config.aws, config.config.window.days, start, end, store_path(config), quiet,
                              store_url=config.config.store.url)
        with graceful_termination(), progress_shown(request):
            plan = plan_aws(request)
    else:
        plan = plan_source(spec, start=parse_moment(start, "--start") if start else None,
                           end=parse_moment(end, "--end") if end else None,
                           work_dir=config.config.executor.shard_dir or store_path(config).parent)
    print_problems(plan.problems, console(stderr=True))
    event("source_loaded", source=plan.label, resources=len(plan.inventory), problems=len(plan.problems))
    result = sharded_audit(config, plan, rules, runner)
    failed = result.problems[len(plan.problems):]
    if failed:
        print_problems(failed, console(stderr=True))
    return result


def exit_on_savings(summary: Summary, threshold: float | None) -> None:
    savings = summary.total_monthly_savings
    if threshold is not None and (not math.isfinite(savings) or savings > threshold):  # overflow cannot pass
        console(stderr=True).print(f"monthly savings found {usd(savings)} exceed --fail-on-savings {usd(threshold)}")
        raise typer.Exit(EXIT_SAVINGS_FOUND)


def audit(
    source: SourceOpt = None,
    demo: DemoOpt = False,
    out: OutOpt = None,
    config: ConfigOpt = None,
    rules: RulesOpt = None,
    disable_rule: DisableOpt = None,
    horizon_days: HorizonOpt = None,
    cpu_statistic: CpuStatOpt = None,
    cpu_headroom: CpuHeadroomOpt = None,
    memory_headroom: MemHeadroomOpt = None,
    min_hours: MinHoursOpt = None,
    fail_on_savings: FailOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success (for cron).")] = False,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    role_arn: RoleOpt = None,
    external_id: ExternalIdOpt = None,
    days: DaysOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    store: StoreOpt = None,
    group_tag: GroupTagOpt = None,
    log_file: LogFileOpt = None,
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    history: Annotated[bool, typer.Option("--history/--no-history", help="Record this run in the local history "
                                          "(for `advisor diff`).")] = True,
) -> None:
    """Analyse a fleet and write the HTML report plus JSON and CSV exports.

    Each run writes dated files (`report-<UTC stamp>.html`, ...) and refreshes report.html, recommendations.json
    and recommendations.csv as copies of the newest; [output] retention in advisor.toml keeps the last N runs.
    A lock in the store directory keeps two runs from overlapping (the second exits with code 4).

    Example: advisor audit --demo --out ./advisor-report
    """
    cfg = load_effective_config(config, source=source, demo=demo, out=out, rules=rules,
                                disable_rule=disable_rule, horizon_days=horizon_days, cpu_statistic=cpu_statistic,
                                cpu_headroom=cpu_headroom, memory_headroom=memory_headroom, min_hours=min_hours,
                                region=region, profile=profile, role_arn=role_arn, external_id=external_id,
                                days=days, store=store, group_tag=group_tag, log_file=log_file,
                                executor=executor, scheduler=scheduler, workers=workers)
    log_target = cfg.config.logging.file
    configure(None if log_target == Path("-") else log_target, cfg.config.logging.format,
              to_stderr=log_target == Path("-"))
    directory = writable_dir(cfg.config.output.dir)
    with RunLock(store_path(cfg).parent):
        _audit_locked(cfg, directory, start, end, quiet, history, fail_on_savings)


def _audit_locked(cfg: EffectiveConfig, directory: Path, start: str | None, end: str | None, quiet: bool,
                  history: bool, fail_on_savings: float | None) -> None:
    from advisor.report.exports import to_csv, to_json
    from advisor.report.page import render_html
    from advisor.report.summary import summarize
    from advisor.report.terminal import render_changes, render_summary, render_table

    started = datetime.now(UTC)
    event("run_started", source=cfg.config.source.spec, config=str(cfg.path) if cfg.path else None)
    try:
        result = run_audit(cfg, start, end, quiet)
        summary = summarize(result, cfg.config.output.group_tag)  # once: every output shows these figures
        savings = summary.total_monthly_savings
        # The run enters the history only once its outputs are written; a broken history only warns.
        with _history(cfg, result, started, savings, history) as changes:
            result.changes = changes
            written = write_outputs(directory, started, {
                "report.html": render_html(result, summary, cfg.config.output.full_resolution_top),
                "recommendations.json": to_json(result, summary),
                "recommendations.csv": to_csv(result),
            }, cfg.config.output.retention, cfg.config.output.mode)
    except BaseException as exc:
        event("run_failed", error=f"{type(exc).__name__}: {exc}")
        raise
    event("run_finished", recommendations=len(result.recommendations), monthly_savings=savings,
          outputs=[str(p) for p in written], seconds=round((datetime.now(UTC) - started).total_seconds(), 2))
    if not quiet:
        render_summary(summary, console())
        render_changes(result, console())
        render_table(result, console(), limit=15)
        console().print(f"Report: {directory / 'report.html'} (this run: {written[0].name})")
        console().print(f"Exports: {directory / 'recommendations.json'}, {directory / 'recommendations.csv'}")
    exit_on_savings(summary, fail_on_savings)


def _history(cfg: EffectiveConfig, result: AuditResult, started: datetime, savings: float,
             enabled: bool) -> AbstractContextManager[dict[str, Any] | None]:
    from advisor.store.history import recorded_run

    if not enabled:
        return nullcontext(None)
    warn = console(stderr=True)
    return recorded_run(store_path(cfg).parent, result, started, savings,
                        lambda message: warn.print(f"[yellow]warning:[/] {markup(message)}", highlight=False,
                                                           soft_wrap=True))


def recommend(
    source: SourceOpt = None,
    demo: DemoOpt = False,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="json (a list of recommendation "
                                                        "objects), csv, or table.")] = OutputFormat.table,
    output: Annotated[Path | None, typer.Option("--output", help="Write to this file instead of stdout.")] = None,
    config: ConfigOpt = None,
    rules: RulesOpt = None,
    disable_rule: DisableOpt = None,
    horizon_days: HorizonOpt = None,
    cpu_statistic: CpuStatOpt = None,
    cpu_headroom: CpuHeadroomOpt = None,
    memory_headroom: MemHeadroomOpt = None,
    min_hours: MinHoursOpt = None,
    fail_on_savings: FailOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    role_arn: RoleOpt = None,
    external_id: ExternalIdOpt = None,
    days: DaysOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    store: StoreOpt = None,
) -> None:
    """Print recommendations as JSON, CSV or a table (no report, no history).

    Example: advisor recommend --source files:./export --format json > recs.json
    """
    from advisor.report.exports import to_csv, to_json
    from advisor.report.summary import summarize
    from advisor.report.terminal import render_summary, render_table

    cfg = load_effective_config(config, source=source, demo=demo, rules=rules, disable_rule=disable_rule,
                                horizon_days=horizon_days, cpu_statistic=cpu_statistic, cpu_headroom=cpu_headroom,
                                memory_headroom=memory_headroom, min_hours=min_hours, region=region,
                                profile=profile, role_arn=role_arn, external_id=external_id, days=days, store=store)
    result = run_audit(cfg, start, end, quiet=output_format is not OutputFormat.table)
    summary = summarize(result, cfg.config.output.group_tag)
    if output_format is OutputFormat.table and not output:
        render_summary(summary, console())
        render_table(result, console(), limit=None)
    elif output_format is OutputFormat.table and output is not None:
        buffer = io.StringIO()
        file_console = Console(file=buffer, width=PIPE_WIDTH, no_color=True)
        render_summary(summary, file_console)
        render_table(result, file_console, limit=None)
        atomic_write_text(output, buffer.getvalue(), cfg.config.output.mode)
    else:
        text = to_json(result) if output_format is OutputFormat.json else to_csv(result)
        if output:
            atomic_write_text(output, text, cfg.config.output.mode)
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
    exit_on_savings(summary, fail_on_savings)
