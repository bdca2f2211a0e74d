import pandas as pd
import pytest
from fleet_builders import FleetBuilder

from advisor.errors import SourceError
from advisor.sources import load_source
from advisor.sources.files import load_files


def _export(tmp_path, fmt: str = "csv"):
    fleet = FleetBuilder(days=2)
    fleet.ec2("i-1", "m5.large", cpu=fleet.noise(0, 10), memory=fleet.noise(0, 10))
    fleet.add("vol-1", "ebs_volume", metrics={"read_iops": fleet.noise(0, 5)}, volume_type="gp2", size_gib=100,
              attached_to="i-1")
    inventory, metrics = fleet.frames()
    inventory["tags"] = ['{"Name": "<b>web</b>"}', "team=ml;env=dev"]
    if fmt == "csv":
        inventory.to_csv(tmp_path / "inventory.csv", index=False)
        metrics.to_csv(tmp_path / "metrics.csv", index=False)
    else:
        inventory.to_parquet(tmp_path / "inventory.parquet")
        metrics.to_parquet(tmp_path / "metrics.parquet")
    return metrics


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_reads_csv_and_parquet_into_the_canonical_frames(tmp_path, fmt):
    written = _export(tmp_path, fmt)
    data = load_source(f"files:{tmp_path}")
    inventory, metrics = data.inventory, data.metrics
    assert list(inventory["resource_id"]) == ["i-1", "vol-1"]
    assert inventory.loc[0, "tags"] == {"Name": "<b>web</b>"}
    assert inventory.loc[1, "tags"] == {"team": "ml", "env": "dev"}
    assert inventory.loc[1, "size_gib"] == 100 and inventory.loc[0, "count"] == 1
    assert len(metrics) == len(written)
    assert str(metrics["timestamp"].dt.tz) == "UTC"
    assert data.label == f"files:{tmp_path}"


def test_metrics_of_an_unknown_resource_are_ignored_and_counted(tmp_path):
    _export(tmp_path)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    metrics.loc[0, "resource_id"] = "i-ghost"
    metrics.to_csv(tmp_path / "metrics.csv", index=False)
    data = load_source(f"files:{tmp_path}")
    assert "i-ghost" not in set(data.metrics["resource_id"]) and len(data.metrics) == len(metrics) - 1
    assert data.problems == ["metrics.csv: 1 sample(s) of 1 resource id(s) not in the inventory ignored (first: "
                             "'i-ghost' on row 2)"]


@pytest.mark.parametrize(
    ("inventory", "metrics", "message"),
    [
        ("resource_id,region\ni-1,us-east-1\n", None, "missing required column(s) kind"),
        (None, "resource_id,metric,value\ni-1,cpu,5\n", "missing required column(s) timestamp"),
    ],
)
def test_malformed_files_get_a_clear_error_naming_the_file(tmp_path, inventory, metrics, message):
    (tmp_path / "inventory.csv").write_text(inventory or "resource_id,kind,region\ni-1,ec2_instance,us-east-1\n")
    (tmp_path / "metrics.csv").write_text(metrics or "resource_id,metric,timestamp,value\n")
    with pytest.raises(SourceError) as info:
        load_files(tmp_path)
    assert message in str(info.value)
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize(
    ("inventory", "metrics", "reason"),
    [
        ("resource_id,kind,region\ni-1,lambda,us-east-1\n", None, "inventory.csv row 2, field kind: unknown value "
         "'lambda'"),
        ("resource_id,kind,region\ni-1,ec2_instance,x\ni-1,ec2_instance,x\n", None,
         "inventory.csv rows 2 and 3: resource_id 'i-1' appears more than once"),
        ("resource_id,kind,region,tags\ni-1,ec2_instance,x,{bad json\n", None,
         "inventory.csv row 2, field tags: tags is not valid JSON"),
        (None, "resource_id,metric,timestamp,value\ni-1,cpu,yesterday-ish,5\n",
         "metrics.csv row 2, field timestamp: 'yesterday-ish' is not an ISO 8601 date"),
    ],
)
def test_a_bad_row_rejects_only_its_resource(tmp_path, inventory, metrics, reason):
    (tmp_path / "inventory.csv").write_text((inventory or "resource_id,kind,region\ni-1,ec2_instance,us-east-1\n")
                                            + "i-2,ec2_instance,us-east-1\n")
    (tmp_path / "metrics.csv").write_text(metrics or "resource_id,metric,timestamp,value\n")
    data = load_files(tmp_path)
    assert data.rejected["resource_id"].tolist() == ["i-1"]
    assert data.rejected["reason"].iloc[0].startswith(reason), data.rejected["reason"].iloc[0]
    assert data.inventory["resource_id"].tolist() == ["i-2"]


def test_missing_files_and_non_finite_values(tmp_path):
    with pytest.raises(SourceError, match="no inventory.csv or inventory.parquet"):
        load_files(tmp_path)
    (tmp_path / "inventory.csv").write_text("resource_id,kind,region\ni-1,ec2_instance,us-east-1\n"
                                            "i-2,ec2_instance,us-east-1\n")
    (tmp_path / "metrics.csv").write_text("resource_id,metric,timestamp,value\n"
                                          "i-1,cpu,2026-11-02T00:00:00Z,5\ni-1,cpu,2026-11-02T00:05:00Z,\n"
                                          "i-2,cpu,2026-11-02T00:10:00Z,inf\n")
    data = load_files(tmp_path)
    assert data.metrics["value"].tolist() == [5.0]  # a missing sample stays missing, never becomes zero
    assert data.rejected["reason"].tolist() == ["metrics.csv row 4, field value: 'inf' is not a finite number"]
