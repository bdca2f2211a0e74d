"""``--store s3://bucket/prefix``: the Parquet parts go to S3 (the moto server's), the catalog stays local."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import boto3
import pandas as pd
import pytest
from awsfakes import Seeder, now_floor
from typer.testing import CliRunner

from advisor.catalog import load_catalog
from advisor.cli.main import app
from advisor.errors import ConfigError
from advisor.sources.aws.collect import collect_into_store, load_frames
from advisor.sources.aws.session import AwsOptions
from advisor.sources.aws.window import Window
from advisor.store.cache import Store, StoreError
from advisor.store.location import open_store, parse_s3_url, s3_catalog_path

PART = re.compile(r"advisor/fleet/points/account=123456789012/region=us-east-1/date=\d{4}-\d{2}-\d{2}/"
                  r"part-[0-9a-f]{32}\.parquet")


def _fleet(seed: Seeder) -> tuple[Window, str]:
    end = now_floor() - timedelta(minutes=30)
    instance = seed.instance("m5.xlarge", root_volume=False)
    seed.series("AWS/EC2", "CPUUtilization", {"InstanceId": instance}, [float(i % 40) for i in range(36)], end)
    seed.series("CWAgent", "mem_used_percent", {"InstanceId": instance}, [50.0] * 36, end)
    seed.client("s3").create_bucket(Bucket="advisor")
    return Window.build(start=end - timedelta(hours=3), end=end), instance


def _keys(seed: Seeder) -> list[str]:
    listed = seed.client("s3").list_objects_v2(Bucket="advisor", Prefix="fleet/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_the_parts_go_to_s3_and_read_back_as_from_a_local_store(seed: Seeder, tmp_path: Path) -> None:
    window, instance = _fleet(seed)
    url = "s3://advisor/fleet"
    catalog = s3_catalog_path(url)
    with open_store(catalog, url, boto3.Session) as store:
        remote = collect_into_store(AwsOptions(), store, window)
        counts = store.counts()
        _, from_s3, _ = load_frames(store, remote, load_catalog())
    assert catalog.is_file() and catalog.parent == tmp_path / "xdg" / "advisor" / "s3"  # XDG_DATA_HOME of the test
    assert not list(catalog.parent.glob("*.points"))  # no datapoints on the local disk
    keys = _keys(seed)
    assert keys and all(PART.fullmatch(f"advisor/{key}") for key in keys), keys
    assert counts["points"] == 4 * 36 and counts["parts"] == len(keys)  # compacted: one part per partition
    with Store(tmp_path / "local.duckdb") as store:
        local = collect_into_store(AwsOptions(), store, window)
        _, from_disk, _ = load_frames(store, local, load_catalog())
    key = ["resource_id", "metric", "stat", "timestamp"]
    pd.testing.assert_frame_equal(from_s3.sort_values(key, ignore_index=True),
                                  from_disk.sort_values(key, ignore_index=True))
    assert set(from_s3["resource_id"]) == {instance}


def test_collect_store_s3_on_the_command_line(seed: Seeder, tmp_path: Path) -> None:
    window, _ = _fleet(seed)
    arguments = ["collect", "--region", "us-east-1", "--store", "s3://advisor/fleet/", "--start",
                 window.start.isoformat(), "--end", window.end.isoformat()]
    first = CliRunner().invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert "s3://advisor/fleet/points" in first.stdout
    keys = _keys(seed)
    again = CliRunner().invoke(app, arguments)  # the local catalog of that URL knows what was fetched
    assert again.exit_code == 0, again.output
    assert _keys(seed) == keys


def test_a_new_catalog_refuses_parts_it_does_not_know(seed: Seeder, tmp_path: Path) -> None:
    window, _ = _fleet(seed)
    url = "s3://advisor/fleet"
    with open_store(s3_catalog_path(url), url, boto3.Session) as store:
        collect_into_store(AwsOptions(), store, window)
    s3_catalog_path(url).unlink()  # the catalog lost: its series ids would mean other series
    with pytest.raises(StoreError, match="already holds datapoints"):
        open_store(s3_catalog_path(url), url, boto3.Session)


@pytest.mark.parametrize("url", ["s3://", "s3://A_Bucket/x", "s3://bucket/a//b", "s3://bucket/../x", "file:///tmp"])
def test_bad_store_urls_are_one_clear_error(url: str) -> None:
    with pytest.raises(ConfigError, match="store URL"):
        parse_s3_url(url)
