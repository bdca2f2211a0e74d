"""Flags shared by several commands, written once.

A flag that sets a setting is built from its field in the schema (``advisor.settings``): the help is the field's
description, its default and its advisor.toml key, and the inclusive bounds become the flag's min and max (an
open bound, such as ``window.days > 0``, is checked when the value reaches the schema, and the error names the
flag). The parameter behind ``--cpu-headroom`` is named ``cpu_headroom``: that is how ``load_effective_config``
finds the setting a value belongs to.
"""

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from advisor.settings import SettingField, setting_field

# flag -> the setting it overrides
SETTING_FLAGS = {
    "--source": "source.spec",
    "--rules": "rules.dirs",
    "--disable-rule": "rules.disabled",
    "--horizon-days": "sizing.horizon_days",
    "--cpu-statistic": "sizing.cpu.statistic",
    "--cpu-headroom": "sizing.cpu.headroom_pct",
    "--memory-headroom": "sizing.memory.headroom_pct",
    "--min-hours": "sizing.min_hours",
    "--region": "aws.regions",
    "--profile": "aws.profile",
    "--role-arn": "aws.role_arns",
    "--external-id": "aws.external_id",
    "--days": "window.days",
    "--store": "store.path",
    "--out": "output.dir",
    "--group-tag": "output.group_tag",
    "--log-file": "logging.file",
    "--executor": "executor.kind",
    "--scheduler": "executor.scheduler",
    "--workers": "executor.workers",
}


def setting_help(found: SettingField) -> str:
    """A flag's help from its field: what it is, the default, and where advisor.toml sets it."""
    repeatable = "; repeatable" if isinstance(found.default, list) else ""
    default = f"default: {found.shown_default}; " if found.shown_default is not None else ""
    return f"{found.text}{repeatable} [{default}advisor.toml: {found.key}]."


def setting_option(flag: str, *aliases: str) -> Any:
    """The typer Option of the setting ``SETTING_FLAGS[flag]``, with help and bounds from its field."""
    found = setting_field(SETTING_FLAGS[flag])
    return typer.Option(flag, *aliases, help=setting_help(found), min=found.bounds.get("ge"),
                        max=found.bounds.get("le"))


class Format(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (for people) or json (for scripts).")]

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Settings file [default: ./advisor.toml, "
                                                "else advisor/advisor.toml in $XDG_CONFIG_HOME or ~/.config].")]

# What to analyse and how
SourceOpt = Annotated[str | None, setting_option("--source", "-s")]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Audit the bundled demo fleet (same as --source demo).")]
RulesOpt = Annotated[list[Path] | None, setting_option("--rules")]
DisableOpt = Annotated[list[str] | None, setting_option("--disable-rule")]
HorizonOpt = Annotated[int | None, setting_option("--horizon-days")]
CpuStatOpt = Annotated[str | None, setting_option("--cpu-statistic")]
CpuHeadroomOpt = Annotated[float | None, setting_option("--cpu-headroom")]
MemHeadroomOpt = Annotated[float | None, setting_option("--memory-headroom")]
MinHoursOpt = Annotated[float | None, setting_option("--min-hours")]
FailOpt = Annotated[float | None, typer.Option("--fail-on-savings", metavar="AMOUNT",
                                               help="Exit with code 3 when the monthly savings found exceed "
                                               "AMOUNT (USD), for CI and cron.")]

# Reading AWS
RegionOpt = Annotated[list[str] | None, setting_option("--region", "-r")]
ProfileOpt = Annotated[str | None, setting_option("--profile")]
RoleOpt = Annotated[list[str] | None, setting_option("--role-arn")]
ExternalIdOpt = Annotated[str | None, setting_option("--external-id")]
DaysOpt = Annotated[float | None, setting_option("--days")]
StartOpt = Annotated[str | None, typer.Option("--start", help="Window start, ISO 8601 (UTC if no offset); "
                                              "overrides --days.")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Window end, ISO 8601 (default: now).")]
# a path or an S3 URL (typer would make a Path of the URL, and Path("s3://b") is "s3:/b"): floor.load_effective_config
# sends a URL to store.url
StoreOpt = Annotated[str | None, typer.Option("--store", help=setting_help(setting_field("store.path")) + (
    " Or s3://bucket/prefix: the datapoints are Parquet parts there, the catalog stays local (docs/store.md) "
    "[advisor.toml: store.url]."))]
ReadersOpt = Annotated[int, typer.Option("--workers", min=1, max=64, help="Concurrent account/region readers "
                                         "and concurrent CloudWatch calls.")]

# Where the work runs
ExecutorOpt = Annotated[str | None, setting_option("--executor")]
SchedulerOpt = Annotated[str | None, setting_option("--scheduler")]
WorkersOpt = Annotated[int | None, setting_option("--workers")]

# Where results go
OutOpt = Annotated[Path | None, setting_option("--out", "-o")]
GroupTagOpt = Annotated[str | None, setting_option("--group-tag")]
LogFileOpt = Annotated[Path | None, setting_option("--log-file")]
