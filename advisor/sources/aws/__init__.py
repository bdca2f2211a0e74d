"""The AWS source: inventory and CloudWatch history across accounts and regions, cached in the local store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from advisor.sources.aws.collect import Progress, collect_frames
from advisor.sources.aws.session import AwsOptions
from advisor.sources.aws.window import Window


@dataclass
class AwsRequest:
    """Everything ``--source aws`` needs besides the catalog."""

    options: AwsOptions
    window: Window
    store_path: Path
    progress: Progress | None = None

    @classmethod
    def defaults(cls) -> AwsRequest:
        """The standard credential chain's account and region, the default window ([window] days), the default
        store."""
        from advisor.store.paths import default_store_path

        return cls(AwsOptions(), Window.build(), default_store_path())


def load_aws(request: AwsRequest) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Collect into the store, then read the frames back: ``(inventory, metrics, problems)``."""
    from advisor.catalog import load_catalog
    from advisor.store.cache import Store

    with Store(request.store_path) as store:
        return collect_frames(request.options, store, request.window, load_catalog(), request.progress)


__all__ = ["AwsOptions", "AwsRequest", "Progress", "Window", "load_aws"]
