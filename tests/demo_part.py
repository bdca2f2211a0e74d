"""A part of the bundled demo fleet that takes every path of the whole demo's advice, in a tenth of its samples."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from advisor.sources.demo import demo_dir

# For every kind, one resource per action the whole demo's advice takes and one per set of metrics its resources
# report, and the two variants of the A/B endpoint (the one feature that spans resources: traffic shares). Every
# kind, every series the streaming summary keeps and every finding the features feed are there; ACTIONS below
# checks the advice still takes every one of those paths.
FLEET_IDS = (
    "arn:aws:batch:eu-west-1:111111111111:compute-environment/batch-features-nightly",  # batch: use_spot
    "vol-005628c67be1b0c35",  # ebs without burst balance
    "vol-016f3d117e0675f99",  # ebs: delete
    "vol-0178129259d5acd00",  # ebs: modify_volume (burst balance)
    "i-00377bd13fda45749",  # ec2: downsize, use_spot
    "i-005dab7cd522978cc",  # ec2: modernize
    "i-006d11ee9104c7278",  # ec2: upsize
    "i-0171a9dba75909941",  # ec2 without memory: install_agent
    "i-0203365e97c5144f2",  # ec2: stop
    "i-021dd121fcdfa17cd",  # ec2 GPU: rightsize_accelerator
    "i-0d3963e3630f43d00",  # ec2 GPU: migrate_accelerator
    "embedding-service/AllTraffic",  # endpoint GPU: rightsize_accelerator
    "fraud-scoring-eia/AllTraffic",  # endpoint: add_instance, migrate_accelerator
    "image-tagger-v1/AllTraffic",  # endpoint: delete
    "nightly-scoring/AllTraffic",  # endpoint: scale_to_zero
    "ocr-extractor/AllTraffic",  # endpoint: autoscale
    "sd-turbo-realtime/AllTraffic",  # endpoint: upsize
    "churn-ab-test/champion", "churn-ab-test/challenger",  # one endpoint's two variants
    "nb-alice-research",  # notebook: stop
    "asr-distill-2026-11-03-04-15-00",  # training job GPU: use_spot, rightsize_accelerator
    "diffusion-lora-2026-11-06-07-45-00",  # training job: info
    "feature-backfill-2026-11-07-08-50-00",  # training job without GPU
    "hpo-bert-classifier",  # tuning job: enable_early_stopping
)
ACTIONS = {"use_spot", "delete", "modify_volume", "downsize", "modernize", "upsize", "install_agent", "stop",
           "rightsize_accelerator", "migrate_accelerator", "add_instance", "scale_to_zero", "autoscale", "info",
           "enable_early_stopping"}


def write_demo_part(directory: Path, resource_ids: tuple[str, ...]) -> Path:
    """The bundled demo files' rows of ``resource_ids``, unchanged and in the bundled encoding, in ``directory``
    (for ``load_demo(directory)``)."""
    assert set(pq.read_table(demo_dir() / "inventory.parquet").column("resource_id").to_pylist()) >= \
        set(resource_ids), "every resource asked for is in the demo"
    directory.mkdir(parents=True, exist_ok=True)
    wanted = pa.array(resource_ids, pa.string())
    for name in ("inventory.parquet", "metrics.parquet"):
        table = pq.read_table(demo_dir() / name)
        ids = table.column("resource_id")
        mask = pc.is_in(ids.cast(pa.string()) if pa.types.is_dictionary(ids.type) else ids, value_set=wanted)
        pq.write_table(table.filter(mask), directory / name)
    return directory
