"""The streaming file source: the summary it builds while reading equals what the whole frame gives, its
statistics match a plain numpy reference, and the CSV reader reads what pandas reads."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advisor.engine.features import sample_needs
from advisor.engine.pipeline import audit
from advisor.engine.samples import SampleNeeds
from advisor.report.series import encode_series
from advisor.results import recommendations_frame
from advisor.settings import Settings
from advisor.sources import batches, load_source, reduce
from advisor.sources.files import load_files, reduce_files
from advisor.sources.metrics_file import weighted_quantiles
from tests.demo_part import ACTIONS, FLEET_IDS

START = pd.Timestamp("2026-11-02", tz="UTC")


def _write(directory: Path, inventory: pd.DataFrame, metrics: pd.DataFrame, fmt: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    inventory = inventory.copy()
    inventory["tags"] = [json.dumps(tags, sort_keys=True) for tags in inventory["tags"]]
    if fmt == "parquet":
        inventory.to_parquet(directory / "inventory.parquet")
        metrics.to_parquet(directory / "metrics.parquet")
    else:
        inventory.to_csv(directory / "inventory.csv", index=False)
        metrics.to_csv(directory / "metrics.csv", index=False)
    return directory


# tests/demo_part.py's part of the demo fleet takes every path of the whole demo's advice in a tenth of the
# samples; ACTIONS checks it still does.


@pytest.fixture(scope="module")
def demo(demo_frames) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo's resources of FLEET_IDS (tests only read the frames)."""
    inventory, metrics = demo_frames
    assert set(inventory["resource_id"]) >= set(FLEET_IDS)
    return (inventory[inventory["resource_id"].isin(FLEET_IDS)].reset_index(drop=True),
            metrics[metrics["resource_id"].isin(FLEET_IDS).to_numpy()].reset_index(drop=True))


def _read_both(directory: Path, settings: Settings):
    """The export read whole and read streaming (in groups of few resources): the same problems, window, samples."""
    whole = load_source(f"files:{directory}")
    streamed = load_source(f"files:{directory}", needs=sample_needs(settings))
    assert streamed.summary is not None and streamed.metrics.empty
    assert streamed.problems == whole.problems and streamed.window == whole.window
    assert streamed.samples == len(whole.metrics)
    return whole, streamed


def _audit(data, catalog, settings: Settings):
    return audit(data.inventory, data.analysed, catalog, settings, window=data.window)


def _both(directory: Path, catalog, settings: Settings):
    """The audit of the export read whole and read streaming."""
    whole, streamed = _read_both(directory, settings)
    return whole, streamed, [_audit(data, catalog, settings) for data in (whole, streamed)]


def _decoded_series(result) -> dict[str, tuple[list, list, bytes]]:
    ids = [rec.resource_id for rec in result.recommendations]
    encoded = encode_series(ids, result.metrics if result.hourly is None else result.hourly)
    out = {}
    for resource_id, entry in encoded.index.items():
        offset, length = entry["at"]
        out[resource_id] = (entry["metrics"], entry["scales"], base64.b64decode(encoded.text[offset:offset + length]))
    return out


ORDERS = {
    "as written": lambda m: m,  # grouped by resource: read once, a group at a time
    "shuffled": lambda m: m.sample(frac=1.0, random_state=5),  # every resource in every batch: held to the end
    "by metric": lambda m: m.sort_values(["metric", "resource_id"], kind="stable"),  # resources come back: 2 passes
}


@pytest.fixture(scope="module")
def thinned(demo) -> tuple[pd.DataFrame, pd.DataFrame]:
    inventory, metrics = demo
    return inventory, metrics.iloc[::4].reset_index(drop=True)


@pytest.fixture(scope="module")
def whole_reference(thinned, catalog, tmp_path_factory):
    """The audit of the thinned fleet's export read whole, written grouped by resource (tests only read it). Each
    ordering's file reads whole into exactly these rows (checked below), so it is each one's whole-frame result."""
    whole = load_source(f"files:{_write(tmp_path_factory.mktemp('whole'), *thinned, 'parquet')}")
    result = _audit(whole, catalog, Settings())
    assert {rec.action for rec in result.recommendations} >= ACTIONS, ACTIONS - {r.action for r in
                                                                                 result.recommendations}
    return result


@pytest.mark.parametrize("order", list(ORDERS))
def test_the_streamed_demo_gives_exactly_the_whole_frame_results(thinned, whole_reference, catalog, tmp_path,
                                                                 monkeypatch, order):
    monkeypatch.setattr(reduce, "CHUNK_SAMPLES", 15_000)  # many groups of resources, summarized one by one
    monkeypatch.setattr(batches, "BATCH_ROWS", 5_000)  # (about 70,000 samples: 5 groups, 14 batches)
    inventory, metrics = thinned
    metrics = ORDERS[order](metrics).reset_index(drop=True)
    settings = Settings()
    whole_data, streamed_data = _read_both(_write(tmp_path / "export", inventory, metrics, "parquet"), settings)
    read = whole_data.metrics.sort_values(["resource_id", "metric", "timestamp"], ignore_index=True)
    written = metrics.astype({"resource_id": str, "metric": str}).sort_values(["resource_id", "metric", "timestamp"],
                                                                             ignore_index=True)
    pd.testing.assert_frame_equal(read.astype({"metric": str}), written, check_exact=True)
    whole, streamed = whole_reference, _audit(streamed_data, catalog, settings)
    pd.testing.assert_frame_equal(whole.features.sort_index(), streamed.features.sort_index(), check_exact=True)
    assert recommendations_frame(whole.recommendations).equals(recommendations_frame(streamed.recommendations))
    assert _decoded_series(whole) == _decoded_series(streamed)


def test_the_streamed_csv_with_avg_and_max_samples_matches(demo, catalog, tmp_path, monkeypatch):
    monkeypatch.setattr(reduce, "CHUNK_SAMPLES", 2_000)  # (about 30,000 samples: 15 groups)
    inventory, metrics = demo
    hourly = metrics[metrics["timestamp"].dt.minute == 0]
    maxima = hourly[hourly["metric"].isin(["cpu", "memory"])].assign(value=lambda f: np.minimum(f["value"] * 1.2,
                                                                                                  100.0))
    both = pd.concat([hourly.assign(stat="avg"), maxima.assign(stat="max")], ignore_index=True)
    repeated = pd.concat([both, both.iloc[:40]], ignore_index=True)  # counted once, in both readings
    settings = Settings()
    whole_data, _, (whole, streamed) = _both(_write(tmp_path / "export", inventory, repeated, "csv"), catalog,
                                             settings)
    assert any("40 repeated sample(s)" in p for p in whole_data.problems)
    pd.testing.assert_frame_equal(whole.features.sort_index(), streamed.features.sort_index(), check_exact=True)
    assert {rec.action for rec in whole.recommendations} >= ACTIONS, ACTIONS - {r.action for r in whole.recommendations}
    assert recommendations_frame(whole.recommendations).equals(recommendations_frame(streamed.recommendations))
    assert _decoded_series(whole) == _decoded_series(streamed)


def _reference_fleet(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """Three instances, irregular samples with gaps over two days, written as CSV in a shuffled order."""
    rng = np.random.default_rng(11)
    rows = []
    for k in range(3):
        for metric, high in (("cpu", 100.0), ("memory", 100.0), ("network_in", 5e6)):
            minutes = np.sort(rng.choice(2 * 24 * 60, size=rng.integers(200, 600), replace=False))
            values = np.round(rng.uniform(0, high, len(minutes)), 3)
            rows.append(pd.DataFrame({"resource_id": f"i-{k}", "metric": metric,
                                      "timestamp": START + pd.to_timedelta(minutes, unit="min"), "value": values}))
    metrics = pd.concat(rows, ignore_index=True)
    inventory = pd.DataFrame({"resource_id": [f"i-{k}" for k in range(3)], "kind": "ec2_instance",
                              "region": "us-east-1", "instance_type": "m5.large"})
    inventory.to_csv(tmp_path / "inventory.csv", index=False)
    metrics.sample(frac=1.0, random_state=2).assign(timestamp=lambda f: f["timestamp"].map(pd.Timestamp.isoformat)) \
        .to_csv(tmp_path / "metrics.csv", index=False)
    return tmp_path, metrics


def test_streamed_statistics_match_a_numpy_reference(tmp_path, monkeypatch):
    monkeypatch.setattr(reduce, "CHUNK_SAMPLES", 500)
    directory, metrics = _reference_fleet(tmp_path)
    needs = SampleNeeds(peaks=(("cpu", 0.9), ("cpu", 1.0)), means=("network_in",))
    data = reduce_files(directory, needs, START.to_pydatetime(), (START + pd.Timedelta(days=2)).to_pydatetime())
    summary = data.summary
    assert summary is not None and summary.samples == len(metrics)
    stats = summary.stats.set_index(["resource_id", "metric"])
    for (rid, metric), group in metrics.groupby(["resource_id", "metric"]):
        values = group["value"].to_numpy()
        row = stats.loc[(rid, metric)]
        for name, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
            assert row[name] == pytest.approx(np.percentile(values, q), rel=1e-6), name
        assert row["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert (row["min"], row["max"]) == pytest.approx((values.min(), values.max()), rel=1e-6)
        assert row["samples"] == len(values) and row["above_90"] == pytest.approx((values > 90).mean())
        days = group["timestamp"].dt.floor("D")
        hours = group["timestamp"].dt.floor("h")
        if metric == "cpu":
            for q in (0.9, 1.0):
                peaks = summary.peaks[("cpu", q)]
                got = peaks.values[list(peaks.resource_ids).index(rid)]
                expected = group.groupby(days)["value"].quantile(q)
                assert got[:len(expected)] == pytest.approx(expected.to_numpy(), rel=1e-6)
        if metric == "network_in":
            means = summary.means["network_in"]
            expected = group.groupby(days)["value"].mean()
            assert means.values[list(means.resource_ids).index(rid)] == pytest.approx(expected.to_numpy())
        hourly = summary.hourly
        assert hourly is not None
        at = np.flatnonzero((hourly.resource_ids == rid) & (hourly.metrics == metric))[0]
        first = int(hours.min().timestamp() // 3600) - hourly.hour0
        by_hour = group.groupby(hours)["value"]
        columns = pd.DatetimeIndex(by_hour.max().index).as_unit("s").asi8 // 3600 - hourly.hour0
        assert hourly.maxes[at, columns] == pytest.approx(by_hour.max().to_numpy(), rel=1e-6)
        assert hourly.means[at, columns] == pytest.approx(by_hour.mean().to_numpy(), rel=1e-6)
        assert np.isnan(hourly.maxes[at, :first]).all()


def test_a_resource_rejected_after_it_was_summarized_leaves_the_window(tmp_path, monkeypatch):
    """i-1's early samples are summarized before a bad row of i-1 comes at the end of the file: the window is
    counted again without them."""
    monkeypatch.setattr(reduce, "CHUNK_SAMPLES", 100)
    monkeypatch.setattr(batches, "BATCH_ROWS", 50)
    early = [f"i-1,cpu,2026-10-30T{h:02d}:00:00Z,5" for h in range(24)]
    later = [f"i-2,cpu,{(START + pd.Timedelta(hours=h)).isoformat()},7" for h in range(14 * 24)]
    text = "resource_id,metric,timestamp,value\n" + "\n".join([*early, *later, "i-1,cpu,2026-11-03T00:00:00Z,150"])
    source = _small(tmp_path, text + "\n")
    for read in (load_files, lambda d: reduce_files(d, SampleNeeds())):
        data = read(source)
        assert data.window == (START, START + pd.Timedelta(hours=14 * 24 - 1))
        assert data.rejected["resource_id"].tolist() == ["i-1"]


def test_drill_down_buckets_widen_to_stay_within_their_budget(tmp_path, monkeypatch):
    """A fleet whose hourly buckets would pass the budget keeps wider ones: exact maxima, count-weighted means."""
    monkeypatch.setattr(reduce, "CHUNK_SAMPLES", 500)
    monkeypatch.setattr(reduce, "HOURLY_BUDGET", 2_000)
    directory, metrics = _reference_fleet(tmp_path)
    summary = reduce_files(directory, SampleNeeds()).summary
    assert summary is not None and summary.hourly is not None
    hourly = summary.hourly
    assert hourly.step >= 4 and hourly.hour0 % hourly.step == 0 and hourly.nbytes <= 2_000 * 2
    for (rid, metric), group in metrics.groupby(["resource_id", "metric"]):
        at = np.flatnonzero((hourly.resource_ids == rid) & (hourly.metrics == metric))[0]
        bucket = group["timestamp"].map(pd.Timestamp.timestamp).astype("int64") // 3600 // hourly.step
        by_bucket = group["value"].groupby(bucket.to_numpy() - hourly.hour0 // hourly.step)
        columns = by_bucket.max().index.to_numpy()
        assert hourly.maxes[at, columns] == pytest.approx(by_bucket.max().to_numpy(), rel=1e-6)
        assert hourly.means[at, columns] == pytest.approx(by_bucket.mean().to_numpy(), rel=1e-5)
        assert hourly.counts[at, columns].tolist() == by_bucket.size().tolist()
    encoded = encode_series(["i-0", "i-1"], hourly)
    assert set(encoded.index) == {"i-0", "i-1"}
    assert all(entry["step"] % (hourly.step * 3600) == 0 for entry in encoded.index.values())


def test_weighted_quantiles_are_numpy_quantiles_of_the_repeated_values():
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 500):
        values = np.sort(rng.choice(10**9, size=size, replace=False)).astype(float)
        counts = rng.integers(1, 40, size)
        quantiles = (0.0, 0.01, 0.25, 0.5, 0.99, 1.0)
        expected = np.quantile(np.repeat(values, counts), quantiles)
        assert weighted_quantiles(values, counts, quantiles).tolist() == expected.tolist()


def _small(tmp_path: Path, metrics_text: str, name: str = "metrics.csv") -> Path:
    (tmp_path / "inventory.csv").write_text("resource_id,kind,region\ni-1,ec2_instance,us-east-1\n"
                                            "i-2,ec2_instance,us-east-1\n")
    data = metrics_text.encode()
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return tmp_path


def test_a_row_short_of_fields_is_read_as_pandas_reads_it(tmp_path):
    """pyarrow refuses the row; pandas' parser then reads the file: the missing value is an empty cell."""
    source = _small(tmp_path, "resource_id,metric,timestamp,value\ni-1,cpu,2026-11-02T00:00:00Z,5\n"
                              "i-1,cpu,2026-11-02T00:05:00Z\ni-2,cpu,2026-11-02T00:05:00Z,7\n")
    data = load_files(source)
    assert data.metrics["value"].tolist() == [5.0, 7.0]
    assert data.problems == ["metrics.csv: 1 sample(s) with an empty value ignored"]


def test_pyarrow_giving_up_mid_file_restarts_the_pass(tmp_path, monkeypatch):
    """A short row far into the file: the rows pyarrow already gave are not counted twice."""
    monkeypatch.setattr(batches, "_BLOCK", 256)
    lines = [f"i-1,cpu,2026-11-02T{h:02d}:{m:02d}:00Z,{h + m}" for h in range(10) for m in range(0, 60, 5)]
    lines += ["i-ghost,cpu,2026-11-02T00:00:00Z,1", "i-2,cpu,2026-11-02T00:00:00Z"]
    data = load_files(_small(tmp_path, "resource_id,metric,timestamp,value\n" + "\n".join(lines) + "\n"))
    assert len(data.metrics) == 120
    assert data.problems == ["metrics.csv: 1 sample(s) of 1 resource id(s) not in the inventory ignored (first: "
                             "'i-ghost' on row 122)", "metrics.csv: 1 sample(s) with an empty value ignored"]


def test_a_repeated_column_name_is_read_as_pandas_names_it(tmp_path):
    source = _small(tmp_path, "resource_id,metric,timestamp,value,value\ni-1,cpu,2026-11-02T00:00:00Z,5,9\n")
    assert load_files(source).metrics["value"].tolist() == [5.0]


def test_gzip_and_a_byte_order_mark(tmp_path):
    source = _small(tmp_path, "\ufeffresource_id,metric,timestamp,value\ni-1,cpu,2026-11-02T00:00:00Z,5\n",
                    "metrics.csv.gz")
    assert load_files(source).metrics["value"].tolist() == [5.0]


def test_calibration_reads_the_file_again_and_agrees_with_the_whole_frame(tmp_path, catalog):
    """Three weeks of history: calibration replays its sample of the fleet (here all of it) from the file read
    again, once, and chooses what the whole long frame gives; the days covered come from the streamed times."""
    from fleet_builders import FleetBuilder

    from advisor.backtest import calibration
    from advisor.engine.pipeline import load_rule_set

    fleet = FleetBuilder(days=21, seed=5, per_day=24)  # hourly: what is read again, not the sampling, is the point
    for i in range(24):
        fleet.ec2(f"i-{i:02d}", "m5.2xlarge", cpu=fleet.noise(10, 20), memory=23 + fleet.noise(-0.3, 0.3) + i)
    inventory, metrics = fleet.frames()
    directory = _write(tmp_path / "export", inventory, metrics, "parquet")
    settings = Settings()
    whole = load_files(directory)
    streamed = reduce_files(directory, sample_needs(settings))
    assert streamed.summary is not None and streamed.summary.reread is not None
    assert streamed.summary.reread.history_days == calibration.history_days(whole.metrics["timestamp"])
    read_again: list[set[str]] = []
    frame_of = streamed.summary.reread.frame_of

    def spy(ids):
        read_again.append(set(ids))
        return frame_of(ids)

    streamed.summary.reread = streamed.summary.reread.__class__(streamed.summary.reread.history_days, spy)
    rules = load_rule_set(settings)
    grids = {"cpu_grid": (0.2,), "memory_grid": (0.05, 0.2)}
    expected = calibration.calibrate(whole.inventory, whole.metrics, catalog, settings, rules, **grids)
    got = calibration.calibrate(streamed.inventory, streamed.summary, catalog, settings, rules, **grids)
    assert got.status == "calibrated" and got == expected
    assert read_again == [set(whole.inventory["resource_id"])]
