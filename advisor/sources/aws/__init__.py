"""The AWS source: inventory and CloudWatch history across accounts and regions, cached in the local store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.sources.aws.collect import Progress, collect_data
from advisor.sources.aws.readback import AwsData
from advisor.sources.aws.session import AwsOptions
from advisor.sources.aws.window import Window

if TYPE_CHECKING:
    from advisor.engine.samples import SampleNeeds


@dataclass
class AwsRequest:
    """Everything ``--source aws`` needs besides the catalog."""

    options: AwsOptions
    window: Window
    store_path: Path  # the catalog file (for an S3 store, its local catalog)
    progress: Progress | None = None
    store_url: str | None = None  # s3://bucket/prefix: the parts go there

    @classmethod
    def defaults(cls) -> AwsRequest:
        """The standard credential chain's account and region, the default window ([window] days), the default
        store."""
        from advisor.store.paths import default_store_path

        return cls(AwsOptions(), Window.build(), default_store_path())


def load_aws(request: AwsRequest, needs: SampleNeeds | None = None) -> AwsData:
    """Collect into the store, then read back the inventory and the metrics: the long frame, or with ``needs``
    (``features.sample_needs``) their summary, built group by group in bounded memory."""
    from advisor.catalog import load_catalog
    from advisor.sources.aws.session import base_session
    from advisor.store.location import open_store

    with open_store(request.store_path, request.store_url, lambda: base_session(request.options)) as store:
        return collect_data(request.options, store, request.window, load_catalog(), request.progress, needs)


__all__ = ["AwsData", "AwsOptions", "AwsRequest", "Progress", "Window", "load_aws"]
