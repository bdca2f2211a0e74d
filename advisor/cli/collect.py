"""``advisor collect``: read inventory and CloudWatch history from AWS into the local store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from advisor.cli.aws_request import aws_request, graceful_termination, print_problems, progress_shown
from advisor.cli.floor import console, load_effective_config, store_path
from advisor.cli.options import (
    ConfigOpt,
    DaysOpt,
    EndOpt,
    ExternalIdOpt,
    ProfileOpt,
    ReadersOpt,
    RegionOpt,
    RoleOpt,
    StartOpt,
    StoreOpt,
)
from advisor.runlock import RunLock
from advisor.safetext import markup

if TYPE_CHECKING:
    from advisor.sources.aws.collect import Collection


def collect(
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    role_arn: RoleOpt = None,
    external_id: ExternalIdOpt = None,
    days: DaysOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    store: StoreOpt = None,
    readers: ReadersOpt = 8,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary (problems "
                                        "are still printed on stderr); for cron.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Read inventory and CloudWatch history from AWS into the local store (only periods not yet stored).

    Regions, roles and the window come from the flags, else from advisor.toml's [aws] and [window]. Holds the
    same lock as `advisor audit`, so a scheduled collect and audit never overlap (exit code 4).

    Example: advisor collect --region us-east-1 --region eu-west-1 --days 14
    """
    # boto3, pandas and duckdb load when the command runs, not at start-up.
    from advisor.sources.aws.collect import collect_into_store
    from advisor.sources.aws.session import base_session
    from advisor.store.location import open_store

    cfg = load_effective_config(config, region=region, profile=profile, role_arn=role_arn,
                                external_id=external_id, days=days, store=store)
    url = cfg.config.store.url
    request = aws_request(cfg.config.aws, cfg.config.window.days, start, end, store_path(cfg), quiet, readers, url)
    with RunLock(store_path(cfg).parent), graceful_termination(), \
            open_store(request.store_path, url, lambda: base_session(request.options)) as opened, \
            progress_shown(request):
        collection = collect_into_store(request.options, opened, request.window, request.progress)
        parts = opened.parts.location
    print_problems(collection.problems, console(stderr=True))
    if not quiet:
        _summary(collection, request.store_path, parts, console())


def _summary(collection: Collection, store: Path, parts: str, console: Console) -> None:
    window = collection.window
    console.print(f"Collected {len(collection.targets)} account/region pair(s): {collection.resources} resources, "
                  f"{collection.series} CloudWatch series ({collection.queries} queries), "
                  f"{collection.calls} GetMetricData call(s) for the periods not yet stored.", highlight=False)
    console.print(f"Window {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC at {window.period} s; "
                  f"store: {markup(str(store))}", highlight=False)
    console.print(f"Datapoints (Parquet): {markup(parts)}", highlight=False)
