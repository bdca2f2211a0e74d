"""Flags shared by several commands, written once."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Format(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (for people) or json (for scripts).")]

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Settings file [default: ./advisor.toml, "
                                                "else advisor/advisor.toml in $XDG_CONFIG_HOME or ~/.config].")]

# What to analyse and how
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

# Reading AWS
RegionOpt = Annotated[list[str] | None, typer.Option(
    "--region", "-r", help="AWS region to read; repeatable; 'all' = every region enabled for the account. "
    "Default: the profile's or AWS_REGION's region.")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS profile (default: the standard "
                                                "credential chain).")]
RoleOpt = Annotated[list[str] | None, typer.Option("--role-arn", help="Role to assume in each account to read; "
                                                   "repeatable (one per account).")]
ExternalIdOpt = Annotated[str | None, typer.Option("--external-id", help="External id for --role-arn.")]
DaysOpt = Annotated[float | None, typer.Option("--days", min=0.01, help="Days of history to read, up to now "
                                                  "[default: [window] days in advisor.toml, else 14].")]
StartOpt = Annotated[str | None, typer.Option("--start", help="Window start, ISO 8601 (UTC if no offset); "
                                              "overrides --days.")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Window end, ISO 8601 (default: now).")]
StoreOpt = Annotated[Path | None, typer.Option("--store", help="Local cache file [default: $ADVISOR_STORE, "
                                               "else advisor/cache.duckdb in $XDG_DATA_HOME or ~/.local/share].")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, max=64, help="Concurrent account/region readers "
                                         "and concurrent CloudWatch calls.")]
