"""Sources yield the two frames the engine needs: ``(inventory, metrics)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from advisor.errors import ConfigError

if TYPE_CHECKING:
    from advisor.sources.aws import AwsRequest


@dataclass
class SourceData:
    inventory: pd.DataFrame
    metrics: pd.DataFrame
    label: str
    problems: list[str]


def load_source(spec: str, aws: AwsRequest | None = None) -> SourceData:
    """``demo``, ``files:DIR`` or ``aws`` (which needs ``aws``: accounts, regions, window and store)."""
    kind, _, argument = spec.partition(":")
    if kind == "demo":
        from advisor.sources.demo import load_demo

        inventory, metrics = load_demo()
        return SourceData(inventory, metrics, "demo fleet (bundled)", [])
    if kind == "files":
        if not argument:
            raise ConfigError("--source files:DIR needs a directory, e.g. --source files:./export")
        from advisor.sources.files import load_files

        inventory, metrics = load_files(argument)
        return SourceData(inventory, metrics, f"files:{argument}", [])
    if kind == "aws":
        from advisor.sources.aws import AwsRequest, load_aws

        request = aws or AwsRequest.defaults()
        inventory, metrics, problems = load_aws(request)
        return SourceData(inventory, metrics, f"aws ({request.window.start:%Y-%m-%d %H:%M} to "
                          f"{request.window.end:%Y-%m-%d %H:%M} UTC)", problems)
    raise ConfigError(f"unknown source {spec!r}: use 'demo', 'files:DIR' or 'aws'")
