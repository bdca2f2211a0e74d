"""Sources yield the two frames the engine needs: ``(inventory, metrics)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from advisor.errors import ConfigError
from advisor.model import SKIPPED_COLUMNS, AuditResult

if TYPE_CHECKING:
    from advisor.engine.samples import SampleNeeds, SampleSummary
    from advisor.sources.aws import AwsRequest


@dataclass
class SourceData:
    inventory: pd.DataFrame
    metrics: pd.DataFrame  # the long frame (empty when the source summarized it while streaming)
    label: str
    problems: list[str]
    # Resources the source refused (a value outside its field's domain), with the reason; SKIPPED_COLUMNS.
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(SKIPPED_COLUMNS)))
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None  # the analysis window, when the source fixed it
    summary: SampleSummary | None = None  # the metrics reduced per series (a file source asked for it)

    @property
    def samples(self) -> int:
        return self.summary.samples if self.summary is not None else len(self.metrics)

    @property
    def analysed(self) -> pd.DataFrame | SampleSummary:
        """What the audit reads: the summary when there is one, else the long frame."""
        return self.summary if self.summary is not None else self.metrics

    def add_rejected(self, result: AuditResult) -> AuditResult:
        """The audit's skipped resources followed by those the source refused."""
        if not self.rejected.empty:
            skipped = [frame for frame in (result.skipped, self.rejected) if not frame.empty]
            result.skipped = pd.concat(skipped, ignore_index=True)
        return result


def load_source(spec: str, aws: AwsRequest | None = None, start: datetime | None = None,
                end: datetime | None = None, needs: SampleNeeds | None = None) -> SourceData:
    """``demo``, ``files:DIR`` or ``aws`` (which needs ``aws``: accounts, regions, window and store).

    ``start``/``end`` bound a file source's analysis window (else it is the span of the bulk of its data). With
    ``needs`` (``features.sample_needs``), a file or AWS source summarizes its metrics while it reads them: memory
    then grows with the series, not the samples."""
    kind, _, argument = spec.partition(":")
    if kind == "demo":
        from advisor.sources.demo import load_demo

        inventory, metrics = load_demo()
        return SourceData(inventory, metrics, "demo fleet (bundled)", [])
    if kind == "files":
        if not argument:
            raise ConfigError("--source files:DIR needs a directory, e.g. --source files:./export")
        from advisor.sources.files import load_files, reduce_files

        files = load_files(argument, start, end) if needs is None else reduce_files(argument, needs, start, end)
        problems = [*files.problems, *(f"{r.resource_id} skipped: {r.reason}" for r in files.rejected.itertuples())]
        return SourceData(files.inventory, files.metrics, f"files:{argument}", problems, files.rejected, files.window,
                          files.summary)
    if kind == "aws":
        from advisor.sources.aws import AwsRequest, load_aws

        request = aws or AwsRequest.defaults()
        data = load_aws(request, needs)
        return SourceData(data.inventory, data.metrics, f"aws ({request.window.start:%Y-%m-%d %H:%M} to "
                          f"{request.window.end:%Y-%m-%d %H:%M} UTC)", data.problems, summary=data.summary)
    raise ConfigError(f"unknown source {spec!r}: use 'demo', 'files:DIR' or 'aws'")
