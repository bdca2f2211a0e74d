"""The AWS side of the command line: ``advisor collect``, ``advisor catalog refresh`` and the options that make
``audit``/``recommend --source aws`` work. ``advisor.cli`` calls ``register`` once, at the bottom."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from advisor.cli_options import ConfigOpt
from advisor.errors import AdvisorError, ConfigError

if TYPE_CHECKING:
    from advisor.sources.aws import AwsRequest
    from advisor.sources.aws.collect import Collection

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
StoreOpt = Annotated[Path | None, typer.Option("--store", help="Local cache file (default: $ADVISOR_STORE or "
                                               "~/.local/share/advisor/cache.duckdb).")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, max=64, help="Concurrent account/region readers "
                                         "and concurrent CloudWatch calls.")]


class RichProgress:
    """The collector's progress as two rich bars: account × region pairs, and GetMetricData calls."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, transient=True)
        self._targets = self._bar.add_task("accounts × regions", total=None)
        self._calls = self._bar.add_task("GetMetricData calls", total=0)
        self._planned = 0
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def add_targets(self, count: int) -> None:
        self._bar.update(self._targets, total=count)

    def target_done(self, account: str, region: str) -> None:
        self._bar.update(self._targets, advance=1, description=f"accounts × regions (done: {account}/{region})")

    def add_calls(self, count: int) -> None:
        with self._lock:
            self._planned += count
            self._bar.update(self._calls, total=self._planned)

    def call_done(self) -> None:
        self._bar.advance(self._calls)


def _progress(quiet: bool) -> RichProgress | None:
    """A progress bar on stderr when it is a terminal and the run is not quiet."""
    return None if quiet or not sys.stderr.isatty() else RichProgress(Console(stderr=True))


@contextmanager
def graceful_termination() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C: in-flight calls finish and commit, the store stays readable."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def aws_request(regions: list[str] | None, profile: str | None, role_arns: list[str] | None,
                external_id: str | None, days: float, start: str | None, end: str | None, store: Path | None,
                quiet: bool = False, workers: int = 8) -> AwsRequest:
    """The ``--source aws`` request from command-line flags."""
    from advisor.sources.aws import AwsOptions, AwsRequest, Window
    from advisor.sources.aws.window import parse_moment
    from advisor.store.paths import default_store_path

    if external_id and not role_arns:
        raise ConfigError("--external-id needs --role-arn")
    window = Window.build(days=days, start=parse_moment(start, "--start") if start else None,
                          end=parse_moment(end, "--end") if end else None)
    options = AwsOptions(regions=tuple(regions or ()), profile=profile, role_arns=tuple(role_arns or ()),
                         external_id=external_id, workers=workers)
    return AwsRequest(options, window, store or default_store_path(), _progress(quiet))


def print_problems(problems: list[str], console: Console) -> None:
    """What could not be collected and why: one line each, on stderr (so cron mails it even with --quiet)."""
    if problems:
        console.print(f"[yellow]{len(problems)} problem(s) while collecting (everything else was kept):[/]")
        for problem in problems:
            console.print(f"  - {escape(problem)}", highlight=False)


def _summary(collection: Collection, store: Path, console: Console) -> None:
    window = collection.window
    console.print(f"Collected {len(collection.targets)} account/region pair(s): {collection.resources} resources, "
                  f"{collection.series} CloudWatch series ({collection.queries} queries), "
                  f"{collection.calls} GetMetricData call(s) for the periods not yet stored.", highlight=False)
    console.print(f"Window {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC at {window.period} s; "
                  f"store: {store}", highlight=False)


def register(app: typer.Typer, catalog_app: typer.Typer) -> None:
    """Add ``collect`` to ``app`` and ``refresh`` to ``catalog_app``."""
    from advisor.cli import console, handle_errors, load_effective_config, store_path

    @app.command()
    @handle_errors
    def collect(
        region: RegionOpt = None,
        profile: ProfileOpt = None,
        role_arn: RoleOpt = None,
        external_id: ExternalIdOpt = None,
        days: DaysOpt = None,
        start: StartOpt = None,
        end: EndOpt = None,
        store: StoreOpt = None,
        workers: WorkersOpt = 8,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary (problems "
                                            "are still printed on stderr); for cron.")] = False,
        config: ConfigOpt = None,
    ) -> None:
        """Read inventory and CloudWatch history from AWS into the local store (only periods not yet stored).

        Regions, roles and the window come from the flags, else from advisor.toml's [aws] and [window]. Holds the
        same lock as `advisor audit`, so a scheduled collect and audit never overlap (exit code 4).

        Example: advisor collect --region us-east-1 --region eu-west-1 --days 14
        """
        from advisor.runlock import RunLock
        from advisor.sources.aws.collect import collect_into_store
        from advisor.store.cache import Store

        cfg = load_effective_config(config, region=region, profile=profile, role_arn=role_arn,
                                    external_id=external_id, days=days, store=store)
        aws = cfg.file.aws
        request = aws_request(aws.regions, aws.profile, aws.role_arns, aws.external_id, cfg.file.window.days, start,
                              end, store_path(cfg), quiet, workers)
        with RunLock(request.store_path.parent), graceful_termination(), Store(request.store_path) as opened, \
                (request.progress or nullcontext()):
            collection = collect_into_store(request.options, opened, request.window, request.progress)
        print_problems(collection.problems, console(stderr=True))
        if not quiet:
            _summary(collection, request.store_path, console())

    @catalog_app.command("refresh")
    @handle_errors
    def catalog_refresh(
        region: Annotated[list[str] | None, typer.Option("--region", "-r", help="Region to refresh; repeatable; "
                                                         "'all' = every region of the current catalog. "
                                                         "Default: the profile's region.")] = None,
        profile: ProfileOpt = None,
    ) -> None:
        """Rebuild the local catalog from the AWS Price List and EC2 APIs; it is then preferred over the bundled one.

        Example: advisor catalog refresh --region us-east-1 --region eu-west-1
        """
        from botocore.exceptions import BotoCoreError, ClientError

        from advisor.catalog import load_catalog
        from advisor.catalog.refresh import PRICING_REGION, refresh_catalog
        from advisor.sources.aws.session import AwsOptions, base_session, client_config, describe_error
        from advisor.store.paths import user_catalog_dir

        options = AwsOptions(profile=profile)
        session, config = base_session(options), client_config(options)
        regions = list(region or ([session.region_name] if session.region_name else []))
        if not regions:
            raise ConfigError("no AWS region: pass --region (repeatable, or 'all') or set AWS_REGION")
        if "all" in regions:
            regions = load_catalog().regions
        try:
            path = refresh_catalog(lambda name: session.client("ec2", region_name=name, config=config),
                                   session.client("pricing", region_name=PRICING_REGION, config=config),
                                   regions, user_catalog_dir())
        except (ClientError, BotoCoreError) as exc:
            raise AdvisorError(f"catalog refresh failed, the catalog in use is unchanged: {describe_error(exc)}") \
                from exc
        info = load_catalog().info()
        console().print(f"Catalog refreshed for {', '.join(regions)}: {path} (price list {info['price_list_date']}, "
                        f"{info['counts']['priced_rows']} priced rows); `advisor catalog info` shows it is in use.",
                        highlight=False)
