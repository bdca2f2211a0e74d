"""The ``advisor`` command line (typer). Thin: parse flags, call the pipeline, print or write.

Exit codes: 0 success; 1 runtime failure; 2 usage or configuration error (bad flag, bad rule file, bad input
data); 3 savings found above ``--fail-on-savings``.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from advisor.cli_aws import (
    DaysOpt,
    EndOpt,
    ExternalIdOpt,
    ProfileOpt,
    RegionOpt,
    RoleOpt,
    StartOpt,
    StoreOpt,
    aws_request,
    graceful_termination,
    print_problems,
)
from advisor.cli_options import ConfigOpt
from advisor.config import EffectiveConfig
from advisor.errors import AdvisorError, ConfigError
from advisor.logs import event
from advisor.model import AuditResult
from advisor.runlock import RunLock
from advisor.settings import Settings, Statistic

EXIT_SAVINGS_FOUND = 3

app = typer.Typer(
    help="Rightsizing and cost advisor for machine-learning workloads on AWS.\n\n"
    "Example: advisor audit --demo --out ./advisor-report",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
rules_app = typer.Typer(help="List, check and explain rule packs.\n\nExample: advisor rules explain ec2-idle",
                        no_args_is_help=True)
catalog_app = typer.Typer(help="The bundled price and instance catalog.\n\nExample: advisor catalog show m5.xlarge",
                          no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(catalog_app, name="catalog")

# When output goes to a file or pipe (cron, CI), rich would wrap tables at 80 columns; use a wide line instead.
PIPE_WIDTH = 200


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn AdvisorError into one clear line on stderr and its exit code; anything else is exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AdvisorError as exc:
            console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(exc.exit_code) from exc
        except KeyboardInterrupt:
            console(stderr=True).print("interrupted")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if os.environ.get("ADVISOR_DEBUG"):
                raise
            reason = f"{type(exc).__name__}: {exc}"
            console(stderr=True).print(f"[bold red]error:[/] unexpected failure: {escape(reason)} "
                                        "(set ADVISOR_DEBUG=1 for a traceback)")
            raise typer.Exit(1) from exc

    return wrapper


SourceOpt = Annotated[str | None, typer.Option("--source", "-s", help="Where the data comes from: 'demo', "
                                               "'files:DIR' (a directory with inventory.csv and metrics.csv) or "
                                               "'aws' (collect from AWS into the local store, then analyse).")]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Audit the bundled demo fleet (same as --source demo).")]
RulesOpt = Annotated[list[Path] | None, typer.Option("--rules", help="An extra directory of rule packs (*.yaml); "
                                                     "repeatable.")]
DisableOpt = Annotated[list[str] | None, typer.Option("--disable-rule", help="A rule id to switch off; repeatable.")]
HorizonOpt = Annotated[int | None, typer.Option("--horizon-days", min=1, max=365,
                                                help="How far ahead the peak forecast looks [default: 30].")]
CpuStatOpt = Annotated[str | None, typer.Option("--cpu-statistic",
                                                help="CPU demand statistic: p90, p95, p99 or max [default: p99].")]
CpuHeadroomOpt = Annotated[float | None, typer.Option("--cpu-headroom", min=0, max=100,
                                                      help="CPU headroom in % [default: 20].")]
MemHeadroomOpt = Annotated[float | None, typer.Option("--memory-headroom", min=0, max=100,
                                                      help="Memory headroom in % [default: 20].")]
MinHoursOpt = Annotated[float | None, typer.Option("--min-hours", min=0, help="Resources with less history get "
                                                   "no recommendation [default: 30].")]
FailOpt = Annotated[float | None, typer.Option("--fail-on-savings", metavar="AMOUNT",
                                               help="Exit with code 3 when the monthly savings found exceed "
                                               "AMOUNT (USD), for CI and cron.")]


def load_effective_config(config: Path | None, **flags: Any) -> EffectiveConfig:
    """advisor.toml merged with the flags that were given (a flag left at None keeps the file's value)."""
    from advisor.config import load_config

    statistic = flags.get("cpu_statistic")
    if statistic is not None and statistic not in Statistic.__args__:  # type: ignore[attr-defined]
        raise ConfigError(f"--cpu-statistic {statistic!r}: use one of "
                          f"{', '.join(Statistic.__args__)}")  # type: ignore[attr-defined]
    source = "demo" if flags.get("demo") else flags.get("source")
    if flags.get("demo") and flags.get("source") not in (None, "demo"):
        raise ConfigError("use either --demo or --source, not both")
    return load_config(config, {
        "source.spec": source,
        "sizing.horizon_days": flags.get("horizon_days"),
        "sizing.min_hours": flags.get("min_hours"),
        "sizing.cpu.statistic": statistic,
        "sizing.cpu.headroom_pct": flags.get("cpu_headroom"),
        "sizing.memory.headroom_pct": flags.get("memory_headroom"),
        "rules.dirs": flags.get("rules"),
        "rules.disabled": flags.get("disable_rule"),
        "aws.regions": flags.get("region"),
        "aws.profile": flags.get("profile"),
        "aws.role_arns": flags.get("role_arn"),
        "aws.external_id": flags.get("external_id"),
        "window.days": flags.get("days"),
        "store.path": flags.get("store"),
        "output.dir": flags.get("out_dir"),
        "output.group_tag": flags.get("group_tag"),
        "logging.file": flags.get("log_file"),
    })


def store_path(config: EffectiveConfig) -> Path:
    from advisor.store.paths import default_store_path

    return config.file.store.path or default_store_path()


def run_audit(config: EffectiveConfig, start: str | None = None, end: str | None = None,
              quiet: bool = False) -> AuditResult:
    from advisor.catalog import load_catalog
    from advisor.engine.pipeline import audit, load_rule_set
    from advisor.sources import load_source

    settings = config.settings
    spec = config.file.source.spec
    if not spec:
        raise ConfigError("say what to audit: --demo, --source files:DIR or --source aws (or [source] spec in "
                          "advisor.toml)")
    rules = load_rule_set(settings)  # validate rules before reading any data
    if spec == "aws":
        aws_config = config.file.aws
        aws = aws_request(aws_config.regions, aws_config.profile, aws_config.role_arns, aws_config.external_id,
                          config.file.window.days, start, end, store_path(config), quiet)
        with graceful_termination(), aws.progress or nullcontext():
            data = load_source(spec, aws=aws)
        # Even with --quiet: a partial collection is not a clean success, and cron mails what lands on stderr.
        print_problems(data.problems, console(stderr=True))
    else:
        data = load_source(spec)
    event("source_loaded", source=data.label, resources=len(data.inventory), samples=len(data.metrics),
          problems=len(data.problems))
    return audit(data.inventory, data.metrics, load_catalog(), settings, rules=rules, source_label=data.label,
                 problems=data.problems)


def exit_on_savings(result: AuditResult, threshold: float | None) -> None:
    if threshold is None:
        return
    from advisor.report.summary import summarize

    savings = summarize(result)["total_monthly_savings"]
    if savings > threshold:
        console(stderr=True).print(f"monthly savings found ${savings:,.2f} exceed --fail-on-savings ${threshold:,.2f}")
        raise typer.Exit(EXIT_SAVINGS_FOUND)


@app.command()
@handle_errors
def audit(
    source: SourceOpt = None,
    demo: DemoOpt = False,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Directory for report.html, "
                                                 "recommendations.json and .csv (plus dated copies) "
                                                 "[default: advisor-report].")] = None,
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
    group_tag: Annotated[str | None, typer.Option("--group-tag", help="Also break the savings down by this tag's "
                                                  "values (e.g. cost-centre) [default: team].")] = None,
    log_file: Annotated[Path | None, typer.Option("--log-file", help="Append structured (JSON lines) logs here; "
                                                  "'-' for stderr.")] = None,
    history: Annotated[bool, typer.Option("--history/--no-history", help="Record this run in the local history "
                                          "(for `advisor diff`).")] = True,
) -> None:
    """Analyse a fleet and write the HTML report plus JSON and CSV exports.

    Each run writes dated files (report-<UTC stamp>.html, ...) and refreshes report.html, recommendations.json
    and recommendations.csv as copies of the newest; [output] retention in advisor.toml keeps the last N runs.
    A lock in the store directory keeps two runs from overlapping (the second exits with code 4).

    Example: advisor audit --demo --out ./advisor-report
    """
    from advisor.logs import configure

    cfg = load_effective_config(config, source=source, demo=demo, out_dir=out_dir, rules=rules,
                                disable_rule=disable_rule, horizon_days=horizon_days, cpu_statistic=cpu_statistic,
                                cpu_headroom=cpu_headroom, memory_headroom=memory_headroom, min_hours=min_hours,
                                region=region, profile=profile, role_arn=role_arn, external_id=external_id,
                                days=days, store=store, group_tag=group_tag, log_file=log_file)
    log_target = cfg.file.logging.file
    configure(None if log_target == Path("-") else log_target, cfg.file.logging.format,
              to_stderr=log_target == Path("-"))
    directory = writable_dir(cfg.file.output.dir)
    with RunLock(store_path(cfg).parent):
        _audit_locked(cfg, directory, start, end, quiet, history, fail_on_savings)


def _audit_locked(cfg: EffectiveConfig, directory: Path, start: str | None, end: str | None, quiet: bool,
                  history: bool, fail_on_savings: float | None) -> None:
    from datetime import UTC, datetime

    from advisor.outputs import write_outputs
    from advisor.report.exports import to_csv, to_json
    from advisor.report.html import render_html
    from advisor.report.summary import summarize
    from advisor.report.terminal import render_changes, render_summary, render_table

    started = datetime.now(UTC)
    event("run_started", source=cfg.file.source.spec, config=str(cfg.path) if cfg.path else None)
    try:
        result = run_audit(cfg, start, end, quiet)
        group_tag = cfg.file.output.group_tag
        savings = summarize(result, group_tag)["total_monthly_savings"]
        if history:
            result.changes = _record_history(cfg, result, started, savings)
        written = write_outputs(directory, started, {
            "report.html": render_html(result, group_tag=group_tag),
            "recommendations.json": to_json(result, with_summary=True, group_tag=group_tag),
            "recommendations.csv": to_csv(result),
        }, cfg.file.output.retention)
    except BaseException as exc:
        event("run_failed", error=f"{type(exc).__name__}: {exc}")
        raise
    event("run_finished", recommendations=len(result.recommendations), monthly_savings=savings,
          outputs=[str(p) for p in written], seconds=round((datetime.now(UTC) - started).total_seconds(), 2))
    if not quiet:
        render_summary(result, console())
        render_changes(result, console())
        render_table(result, console(), limit=15)
        console().print(f"Report: {directory / 'report.html'} (this run: {written[0].name})")
        console().print(f"Exports: {directory / 'recommendations.json'}, {directory / 'recommendations.csv'}")
    exit_on_savings(result, fail_on_savings)


def _record_history(cfg: EffectiveConfig, result: AuditResult, started: Any, savings: float) -> dict[str, Any]:
    from advisor.store.history import History

    with History(store_path(cfg).parent) as runs:
        run_id = runs.record(result, started, savings)
        if len(runs.runs()) < 2:
            return {"run_id": run_id, "previous": None}
        return {"run_id": run_id, **runs.diff(None, run_id).to_dict()}


@app.command()
@handle_errors
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
    from advisor.fsutil import atomic_write_text
    from advisor.report.exports import to_csv, to_json
    from advisor.report.terminal import render_summary, render_table

    cfg = load_effective_config(config, source=source, demo=demo, rules=rules, disable_rule=disable_rule,
                                horizon_days=horizon_days, cpu_statistic=cpu_statistic, cpu_headroom=cpu_headroom,
                                memory_headroom=memory_headroom, min_hours=min_hours, region=region,
                                profile=profile, role_arn=role_arn, external_id=external_id, days=days, store=store)
    result = run_audit(cfg, start, end, quiet=output_format is not OutputFormat.table)
    if output_format is OutputFormat.table and not output:
        render_summary(result, console())
        render_table(result, console(), limit=None)
    elif output_format is OutputFormat.table:
        buffer = io.StringIO()
        file_console = Console(file=buffer, width=PIPE_WIDTH, no_color=True)
        render_summary(result, file_console)
        render_table(result, file_console, limit=None)
        atomic_write_text(output, buffer.getvalue())
    else:
        text = to_json(result) if output_format is OutputFormat.json else to_csv(result)
        if output:
            atomic_write_text(output, text)
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
    exit_on_savings(result, fail_on_savings)


def writable_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".advisor-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output directory {path}: cannot write there ({exc.strerror})") from exc
    return path


# ----------------------------------------------------------------------------------------------- rules


def _rule_set(rules: list[Path] | None) -> list:
    from advisor.engine.pipeline import load_rule_set

    return load_rule_set(Settings(rules_dirs=list(rules or [])))


@rules_app.command("list")
@handle_errors
def rules_list(rules: RulesOpt = None) -> None:
    """List every loaded rule with its kind, action and condition.

    Example: advisor rules list --rules ./my-rules
    """
    table = Table(title="Rules")
    table.add_column("id", no_wrap=True)
    for column in ("kind", "action", "group/priority", "condition", "thresholds", "file"):
        table.add_column(column, overflow="fold")
    for loaded in _rule_set(rules):
        r = loaded.rule
        thresholds = ", ".join(f"{k}={v:g}" for k, v in r.thresholds.items())
        table.add_row(r.id, r.kind.value, r.action, f"{r.group}/{r.priority}", escape(loaded.describe_condition()),
                      escape(thresholds), f"{loaded.path.name}:{loaded.line}")
    console().print(table)


@rules_app.command("check")
@handle_errors
def rules_check(paths: Annotated[list[Path], typer.Argument(help="Rule files or directories to validate.")]) -> None:
    """Validate rule packs and report the first problem with file, line, rule and field.

    Example: advisor rules check rules/ my-rules/gpu.yaml
    """
    from advisor.engine.features import known_columns
    from advisor.engine.rules import load_rule_file, load_rules

    count = 0
    for path in paths:
        if path.is_dir():
            count += len(load_rules([path], known_columns()))
        elif path.is_file():
            count += len(load_rule_file(path, known_columns()))
        else:
            raise ConfigError(f"{path}: no such file or directory")
    console().print(f"[green]ok[/]: {count} rule(s) valid")


@rules_app.command("explain")
@handle_errors
def rules_explain(rule_id: Annotated[str, typer.Argument(help="The rule id, e.g. ec2-idle.")],
                  rules: RulesOpt = None) -> None:
    """Show what a rule checks, why, and what it recommends.

    Example: advisor rules explain ec2-overprovisioned
    """
    import difflib

    loaded_rules = {r.id: r for r in _rule_set(rules)}
    if rule_id not in loaded_rules:
        close = difflib.get_close_matches(rule_id, list(loaded_rules), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"unknown rule {rule_id!r}{hint}")
    loaded = loaded_rules[rule_id]
    r = loaded.rule
    console().print(f"[bold]{escape(r.id)}[/] — {escape(r.title)}  ({loaded.path}:{loaded.line})")
    console().print(f"kind: {r.kind.value}   action: {r.action}   severity: {r.severity}   group: {r.group} "
              f"(priority {r.priority})")
    console().print(f"fires when: {escape(loaded.describe_condition())}")
    if r.thresholds:
        console().print("thresholds: " + ", ".join(f"{k}={v:g}" for k, v in r.thresholds.items()))
    if r.description:
        console().print(escape(" ".join(r.description.split())))


@rules_app.command("columns")
@handle_errors
def rules_columns() -> None:
    """List the feature columns a rule condition may use.

    Example: advisor rules columns
    """
    from advisor.engine.features import known_columns

    for name in known_columns():
        console().print(name, highlight=False)


# --------------------------------------------------------------------------------------------- catalog


@catalog_app.command("info")
@handle_errors
def catalog_info() -> None:
    """Show the catalog's price-list date, sources and counts.

    Example: advisor catalog info
    """
    from advisor.catalog import load_catalog

    info = load_catalog().info()
    _print_mapping(info)


@catalog_app.command("show")
@handle_errors
def catalog_show(instance_type: Annotated[str, typer.Argument(help="An EC2 or SageMaker type, e.g. g5.xlarge.")],
                 region: Annotated[str | None, typer.Option("--region", "-r", help="Only this region's price.")]
                 = None) -> None:
    """Show one instance type's specs and prices.

    Example: advisor catalog show g4dn.xlarge --region us-east-1
    """
    from advisor.catalog import load_catalog

    _print_mapping(load_catalog().describe(instance_type, region))


def _print_mapping(data: Any, indent: int = 0) -> None:
    pad = "  " * indent
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list):
                console().print(f"{pad}[bold]{escape(str(key))}[/]:")
                _print_mapping(value, indent + 1)
            else:
                console().print(f"{pad}[bold]{escape(str(key))}[/]: {escape(str(value))}", highlight=False)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                console().print(f"{pad}-")
                _print_mapping(item, indent + 1)
            else:
                console().print(f"{pad}- {escape(str(item))}", highlight=False)
    else:
        console().print(f"{pad}{escape(str(data))}", highlight=False)



from advisor.cli_backtest import register as _register_backtest  # noqa: E402  (it uses the helpers above)

_register_backtest(app)


def _register_aws() -> None:
    from advisor.cli_aws import register

    register(app, catalog_app)


_register_aws()


def _register_schedule() -> None:
    from advisor.cli_schedule import register

    register(app)


_register_schedule()
