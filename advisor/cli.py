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
from typing import TYPE_CHECKING, Annotated, Any

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
from advisor.errors import AdvisorError, ConfigError
from advisor.model import AuditResult
from advisor.settings import MetricPolicy, Settings, Statistic

if TYPE_CHECKING:
    from advisor.sources.aws import AwsRequest

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
HorizonOpt = Annotated[int, typer.Option("--horizon-days", min=1, max=365,
                                         help="How far ahead the peak forecast looks.")]
CpuStatOpt = Annotated[str, typer.Option("--cpu-statistic", help="CPU demand statistic: p90, p95, p99 or max.")]
CpuHeadroomOpt = Annotated[float, typer.Option("--cpu-headroom", min=0, max=100, help="CPU headroom in %.")]
MemHeadroomOpt = Annotated[float, typer.Option("--memory-headroom", min=0, max=100, help="Memory headroom in %.")]
MinHoursOpt = Annotated[float, typer.Option("--min-hours", min=0,
                                            help="Resources with less history get no recommendation.")]
FailOpt = Annotated[float | None, typer.Option("--fail-on-savings", metavar="AMOUNT",
                                               help="Exit with code 3 when the monthly savings found exceed "
                                               "AMOUNT (USD), for CI and cron.")]


def build_settings(rules: list[Path] | None, disabled: list[str] | None, horizon: int, cpu_statistic: str,
              cpu_headroom: float, memory_headroom: float, min_hours: float) -> Settings:
    if cpu_statistic not in Statistic.__args__:  # type: ignore[attr-defined]
        raise ConfigError(f"--cpu-statistic {cpu_statistic!r}: use one of {', '.join(Statistic.__args__)}")  # type: ignore[attr-defined]
    return Settings(
        horizon_days=horizon,
        min_hours=min_hours,
        cpu=MetricPolicy(statistic=cpu_statistic, headroom=cpu_headroom / 100),  # type: ignore[arg-type]
        memory=MetricPolicy(statistic="max", headroom=memory_headroom / 100),
        rules_dirs=list(rules or []),
        disabled_rules=list(disabled or []),
    )


def run_audit(source: str | None, demo: bool, settings: Settings, aws: AwsRequest | None = None) -> AuditResult:
    from advisor.catalog import load_catalog
    from advisor.engine.pipeline import audit, load_rule_set
    from advisor.sources import load_source

    if demo and source and source != "demo":
        raise ConfigError("use either --demo or --source, not both")
    spec = "demo" if demo else source
    if not spec:
        raise ConfigError("say what to audit: --demo, or --source files:DIR")
    rules = load_rule_set(settings)  # validate rules before reading any data
    if aws is not None:
        with graceful_termination(), aws.progress or nullcontext():
            data = load_source(spec, aws=aws)
    else:
        data = load_source(spec)
    if spec == "aws":
        print_problems(data.problems, console(stderr=True))
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
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for report.html, recommendations.json "
                                          "and recommendations.csv.")] = Path("advisor-report"),
    rules: RulesOpt = None,
    disable_rule: DisableOpt = None,
    horizon_days: HorizonOpt = 30,
    cpu_statistic: CpuStatOpt = "p99",
    cpu_headroom: CpuHeadroomOpt = 20.0,
    memory_headroom: MemHeadroomOpt = 20.0,
    min_hours: MinHoursOpt = 30.0,
    fail_on_savings: FailOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success (for cron).")] = False,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    role_arn: RoleOpt = None,
    external_id: ExternalIdOpt = None,
    days: DaysOpt = 14,
    start: StartOpt = None,
    end: EndOpt = None,
    store: StoreOpt = None,
    group_tag: Annotated[str, typer.Option("--group-tag", help="Also break the savings down by this tag's values "
                                           "in the report and the JSON summary (e.g. cost-centre).")] = "team",
) -> None:
    """Analyse a fleet and write the HTML report plus JSON and CSV exports.

    Example: advisor audit --demo --out ./advisor-report
    """
    from advisor.report.exports import write_exports
    from advisor.report.html import write_html
    from advisor.report.terminal import render_summary, render_table

    settings = build_settings(rules, disable_rule, horizon_days, cpu_statistic, cpu_headroom, memory_headroom,
                              min_hours)
    aws = (aws_request(region, profile, role_arn, external_id, days, start, end, store, quiet)
           if source == "aws" else None)
    result = run_audit(source, demo, settings, aws)
    out_dir = writable_dir(out_dir)
    report = write_html(result, out_dir / "report.html", group_tag=group_tag)
    exports = write_exports(result, out_dir, group_tag=group_tag)
    if not quiet:
        render_summary(result, console())
        render_table(result, console(), limit=15)
        console().print(f"Report: {report}")
        console().print(f"Exports: {', '.join(str(p) for p in exports)}")
    exit_on_savings(result, fail_on_savings)


@app.command()
@handle_errors
def recommend(
    source: SourceOpt = None,
    demo: DemoOpt = False,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="json (a list of recommendation "
                                                        "objects), csv, or table.")] = OutputFormat.table,
    output: Annotated[Path | None, typer.Option("--output", help="Write to this file instead of stdout.")] = None,
    rules: RulesOpt = None,
    disable_rule: DisableOpt = None,
    horizon_days: HorizonOpt = 30,
    cpu_statistic: CpuStatOpt = "p99",
    cpu_headroom: CpuHeadroomOpt = 20.0,
    memory_headroom: MemHeadroomOpt = 20.0,
    min_hours: MinHoursOpt = 30.0,
    fail_on_savings: FailOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    role_arn: RoleOpt = None,
    external_id: ExternalIdOpt = None,
    days: DaysOpt = 14,
    start: StartOpt = None,
    end: EndOpt = None,
    store: StoreOpt = None,
) -> None:
    """Print recommendations as JSON, CSV or a table (no report).

    Example: advisor recommend --source files:./export --format json > recs.json
    """
    from advisor.fsutil import atomic_write_text
    from advisor.report.exports import to_csv, to_json
    from advisor.report.terminal import render_summary, render_table

    settings = build_settings(rules, disable_rule, horizon_days, cpu_statistic, cpu_headroom, memory_headroom,
                              min_hours)
    aws = (aws_request(region, profile, role_arn, external_id, days, start, end, store)
           if source == "aws" else None)
    result = run_audit(source, demo, settings, aws)
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
        raise ConfigError(f"--out {path}: cannot write there ({exc.strerror})") from exc
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
