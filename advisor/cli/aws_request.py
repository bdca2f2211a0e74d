"""Turning AWS flags into a collection request: the window, the options, a progress bar and SIGTERM handling.

Part of the command line's floor: ``audit --source aws`` and ``collect`` both use it.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from advisor.cli.floor import console, store_path
from advisor.config import EffectiveConfig
from advisor.errors import ConfigError
from advisor.safetext import markup
from advisor.settings import AwsConfig
from advisor.store.paths import default_store_path

if TYPE_CHECKING:
    from advisor.engine.samples import SampleNeeds
    from advisor.sources import SourceData
    from advisor.sources.aws import AwsRequest


class RichProgress:
    """The collector's progress as rich bars: account × region pairs, GetMetricData calls, and (once a call is
    retried) a spinner counting retries, so a throttled run is seen waiting rather than hanging."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, transient=True)
        self._targets = self._bar.add_task("accounts × regions", total=None)
        self._calls = self._bar.add_task("GetMetricData calls", total=0)
        self._retrying = self._bar.add_task("retries", total=None, visible=False)
        self._planned = 0
        self.retries = 0
        self._lock = threading.Lock()

    def watch_retries(self, session: Any) -> None:
        """Count every retried AWS call of ``session`` (a boto3 session): botocore numbers each attempt in the
        request's context before it is sent."""
        session.events.register("request-created", self._request_created)

    def _request_created(self, request: Any, operation_name: str, **_: Any) -> None:
        attempt = request.context.get("retries", {}).get("attempt", 1)
        if attempt > 1:
            with self._lock:
                self.retries += 1
                self._bar.update(self._retrying, visible=True, description=(
                    f"retries: {self.retries} (last: {operation_name}, attempt {attempt}; throttled or failing "
                    "calls wait and retry)"))

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


def progress_shown(request: AwsRequest) -> AbstractContextManager[object]:
    """The request's progress bar, drawn while the block runs (nothing when there is none)."""
    return request.progress if isinstance(request.progress, RichProgress) else nullcontext()


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


def aws_request(aws: AwsConfig, days: float, start: str | None, end: str | None, store: Path | None,
                quiet: bool = False, workers: int = 8, store_url: str | None = None) -> AwsRequest:
    """The ``--source aws`` request from the effective [aws] settings and the window flags; with ``store_url``
    (s3://bucket/prefix) the datapoints go to S3 and the catalog is the local one of that URL."""
    # advisor.sources imports pandas: loaded when a command reads AWS, not at start-up.
    from advisor.sources.aws import AwsOptions, AwsRequest, Window
    from advisor.sources.aws.session import AgentOptions
    from advisor.sources.aws.window import parse_moment

    if aws.external_id and not aws.role_arns:
        raise ConfigError("--external-id needs --role-arn")
    window = Window.build(days=days, start=parse_moment(start, "--start") if start else None,
                          end=parse_moment(end, "--end") if end else None)
    progress = _progress(quiet)
    options = AwsOptions(regions=tuple(aws.regions), profile=aws.profile, role_arns=tuple(aws.role_arns),
                         external_id=aws.external_id.get_secret_value() if aws.external_id else None,
                         workers=workers,
                         agent=AgentOptions(aws.agent_namespace, tuple(aws.agent_memory_dimensions)),
                         configure_session=progress.watch_retries if progress else None)
    if store_url:
        from advisor.store.location import s3_catalog_path

        return AwsRequest(options, window, s3_catalog_path(store_url), progress, store_url)
    return AwsRequest(options, window, store or default_store_path(), progress)


def load_configured_source(config: EffectiveConfig, spec: str, start: str | None, end: str | None,
                           quiet: bool, needs: SampleNeeds | None = None) -> SourceData:
    """The data of ``spec``: for ``aws``, collected into the store with the [aws] and [window] settings; the
    problems are printed on stderr, even with --quiet (a partial collection is not a clean success, and cron
    mails what lands on stderr). ``needs``: a file source summarizes its metrics while reading them."""
    from advisor.sources import load_source
    from advisor.sources.aws.window import parse_moment

    if spec == "aws":
        request = aws_request(config.config.aws, config.config.window.days, start, end, store_path(config), quiet,
                              store_url=config.config.store.url)
        with graceful_termination(), progress_shown(request):
            data = load_source(spec, aws=request, needs=needs)
    else:
        data = load_source(spec, start=parse_moment(start, "--start") if start else None,
                           end=parse_moment(end, "--end") if end else None, needs=needs)
    print_problems(data.problems, console(stderr=True))
    return data


def print_problems(problems: list[str], console: Console) -> None:
    """What could not be collected and why: one line each, on stderr (so cron mails it even with --quiet)."""
    if problems:
        console.print(f"[yellow]{len(problems)} problem(s) while collecting (everything else was kept):[/]")
        for problem in problems:
            console.print(f"  - {markup(problem)}", highlight=False)
