"""Item 9: a file that cannot be read as the documented frames is one line naming the file and what is wrong,
exit code 2 (bad input), never "unexpected failure" or pandas text meant for developers."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest
from hostile.fleet import Fleet, assert_clean_error, assert_others_unchanged, recommend, run_cli


def _export(fleet: Fleet, tmp_path: Path) -> Path:
    return fleet.write(tmp_path / "export")


def test_an_empty_file(fleet: Fleet, tmp_path: Path) -> None:
    source = _export(fleet, tmp_path)
    (source / "inventory.csv").write_bytes(b"")
    assert_clean_error(recommend(source), 2, f"{source / 'inventory.csv'}: the file is empty")


def test_semicolon_separators(fleet: Fleet, tmp_path: Path) -> None:
    source = _export(fleet, tmp_path)
    fleet.metrics.to_csv(source / "metrics.csv", index=False, sep=";")
    assert_clean_error(recommend(source), 2, f"{source / 'metrics.csv'}: columns are separated by semicolons")


def test_latin1_text(fleet: Fleet, tmp_path: Path) -> None:
    source = _export(fleet, tmp_path)
    hostile = fleet.copy()
    hostile.inventory.loc[0, "name"] = "café-box"
    (source / "inventory.csv").write_bytes(hostile.inventory.to_csv(index=False).encode("latin-1"))
    assert_clean_error(recommend(source), 2, f"{source / 'inventory.csv'}: not UTF-8 text (byte 0xe9")


def test_a_byte_order_mark_is_accepted(instances: Fleet, clean, tmp_path: Path) -> None:
    """The mark is before the header, whatever the rows: the two instances show it is read as the clean run."""
    source = _export(instances, tmp_path)
    for name in ("inventory.csv", "metrics.csv"):
        (source / name).write_bytes(b"\xef\xbb\xbf" + (source / name).read_bytes())
    run = recommend(source)
    assert_others_unchanged(run, instances.clean_of(clean))
    assert set(run.records) == set(instances.inventory["resource_id"])


def test_a_directory_where_a_file_should_be(fleet: Fleet, tmp_path: Path) -> None:
    source = _export(fleet, tmp_path)
    (source / "metrics.csv").unlink()
    (source / "metrics.csv").mkdir()
    assert_clean_error(recommend(source), 2, f"{source / 'metrics.csv'}: is a directory, not a file")
    assert_clean_error(recommend(tmp_path / "nowhere"), 2, "nowhere: not a directory")


def test_malformed_csv(fleet: Fleet, tmp_path: Path) -> None:
    source = _export(fleet, tmp_path)
    (source / "metrics.csv").write_text('resource_id,metric,timestamp,value\n"i-1,cpu,2026-11-02,5\n')
    assert_clean_error(recommend(source), 2, f"{source / 'metrics.csv'}: malformed CSV")


def test_a_corrupt_gzip(fleet: Fleet, tmp_path: Path) -> None:
    source = _export(fleet, tmp_path)
    (source / "metrics.csv").unlink()
    (source / "metrics.csv.gz").write_bytes(gzip.compress(b"resource_id,metric\n" * 100)[:40])
    assert_clean_error(recommend(source), 2, f"{source / 'metrics.csv.gz'}: cannot be read")


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_an_unreadable_parquet(fleet: Fleet, tmp_path: Path, damage: str) -> None:
    source = _export(fleet, tmp_path)
    (source / "metrics.csv").unlink()
    path = source / "metrics.parquet"
    fleet.metrics.astype(str).to_parquet(path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"PAR1" + b"\x00" * 64}[damage])
    assert_clean_error(recommend(source), 2, f"{path}: not a readable Parquet file")


def test_parquet_with_odd_dtypes_skips_only_what_is_wrong(fleet: Fleet, clean, tmp_path: Path) -> None:
    """Typed Parquet columns: timestamps as datetimes, values as text; one text value is not a number."""
    source = _export(fleet, tmp_path)
    (source / "metrics.csv").unlink()
    (source / "inventory.csv").unlink()
    metrics = fleet.metrics.copy()
    metrics["timestamp"] = metrics["timestamp"].astype("datetime64[us, UTC]")
    metrics["value"] = metrics["value"].astype(str)
    victim = "i-0effd3819a983fb68"
    row = int(metrics.index[metrics["resource_id"] == victim][3])
    metrics.loc[row, "value"] = "12,5"
    metrics.to_parquet(source / "metrics.parquet")
    inventory = fleet.inventory.copy()
    for column in inventory.columns:
        inventory[column] = inventory[column].astype(str).where(inventory[column].notna(), None)
    inventory.to_parquet(source / "inventory.parquet")
    run = recommend(source)
    assert_others_unchanged(run, clean, victim)
    assert f"{victim} skipped: metrics.parquet row {row + 1}, field value: '12,5' is not a finite number" in run.stderr


def test_a_corrupt_or_foreign_store(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"this is not a database" * 100)
    run = run_cli("collect", "--store", str(garbage), "--region", "us-east-1", "-q")
    assert_clean_error(run, 2, f"store {garbage} cannot be opened")
    foreign = tmp_path / "foreign.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    run = run_cli("collect", "--store", str(foreign), "--region", "us-east-1", "-q")
    assert_clean_error(run, 2, f"{foreign} is a DuckDB file but not an advisor store")
