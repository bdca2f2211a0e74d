import copy
from datetime import UTC, datetime

import duckdb
import pytest
from fleet_builders import FleetBuilder

from advisor.catalog import load_catalog
from advisor.engine.pipeline import audit
from advisor.results import recommendations_frame
from advisor.store.history import History, HistoryError


def _audit(fleet: FleetBuilder, **changes):
    inventory, metrics = fleet.frames()
    for resource_id, fields in changes.items():
        for column, value in fields.items():
            inventory.loc[inventory["resource_id"] == resource_id, column] = value
    return audit(inventory, metrics, load_catalog(), source_label="test")


def _fleet(with_new: bool = False, resized: bool = False) -> FleetBuilder:
    fleet = FleetBuilder(seed=1)
    fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(2, 3), network_in=fleet.noise(5, 20))
    if resized:  # the same work on the smaller target: a larger share of it
        fleet.ec2("i-over", "m5.4xlarge", cpu=fleet.noise(40, 60), memory=fleet.noise(40, 50))
    else:
        fleet.ec2("i-over", "m5.4xlarge", cpu=fleet.noise(5, 15), memory=fleet.noise(10, 20))
    fleet.ec2("i-nomem", "m5.2xlarge", cpu=fleet.noise(5, 15))
    if with_new:
        fleet.ec2("i-new", "c5.4xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(2, 3),
                  network_in=fleet.noise(5, 20))  # idle needs measured quiet network
    return fleet


@pytest.fixture(scope="module")
def first():
    """The fleet's audit, shared: tests only record it (or a copy of it they change)."""
    return _audit(_fleet())


def test_runs_are_recorded_and_diffed_new_resolved_done_persisting(tmp_path, first):
    target = recommendations_frame(first.recommendations).set_index("resource_id").at["i-over", "target"]
    second = _audit(_fleet(with_new=True, resized=True), **{"i-over": {"instance_type": target},
                                              "i-idle": {"state": "stopped"}})
    with History(tmp_path) as history:
        run1 = history.record(first, datetime.now(UTC), 100.0)
        run2 = history.record(second, datetime.now(UTC), 50.0)
        runs = history.runs()
        assert runs["run_id"].tolist() == [run1, run2]
        assert runs["recommendations"].tolist() == [len(first.recommendations), len(second.recommendations)]
        diff = history.diff()
    assert (diff.base, diff.head) == (run1, run2)
    assert diff.new["resource_id"].tolist() == ["i-new"]
    resolved = diff.resolved.set_index("resource_id")
    assert set(resolved.index) == {"i-idle", "i-over"}
    assert resolved.loc["i-over", "done"] and resolved.loc["i-idle", "done"]
    expected = recommendations_frame(first.recommendations).set_index("resource_id").loc[["i-idle", "i-over"],
                                                                                   "monthly_savings"].sum()
    assert diff.realised_savings == pytest.approx(expected, abs=0.01)
    # two findings persist: install the agent, and a CPU-only downsize that keeps the unmeasured memory
    assert diff.persisting["resource_id"].tolist() == ["i-nomem", "i-nomem"]
    assert diff.persisting["open_days"].iloc[0] >= 0


def test_a_resolved_finding_that_was_not_acted_on_is_not_done(tmp_path, first):
    # moved to m5.2xlarge, not to the downsize's target (m5a.xlarge), and now busier: the overprovisioned finding
    # is resolved (a cheaper-type one takes its place), but it was not acted on as advised
    second = _audit(_fleet(resized=True), **{"i-over": {"instance_type": "m5.2xlarge"}})
    with History(tmp_path) as history:
        history.record(first, datetime.now(UTC), 1.0)
        history.record(second, datetime.now(UTC), 1.0)
        diff = history.diff()
    resolved = diff.resolved.set_index("resource_id")
    assert "i-over" in resolved.index
    assert not resolved.loc["i-over", "done"]


def test_diff_needs_two_runs_and_known_ids(tmp_path, first):
    with History(tmp_path) as history:
        with pytest.raises(HistoryError, match="no runs recorded yet"):
            history.diff()
        history.record(first, datetime.now(UTC), 1.0)
        with pytest.raises(HistoryError, match="is the first recorded run of its scope"):
            history.diff()
        with pytest.raises(HistoryError, match="run 'nope' not found"):
            history.diff("nope", "latest")


def test_a_store_from_a_newer_version_is_refused_not_misread(tmp_path):
    History(tmp_path).close()
    db = duckdb.connect(str(tmp_path / "history.duckdb"))
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(HistoryError, match="written by a newer advisor"):
        History(tmp_path)


def test_an_interrupted_record_leaves_the_history_as_it_was(tmp_path, monkeypatch, first):
    result = copy.copy(first)  # its recommendations are replaced below, the shared run's are not
    with History(tmp_path) as history:
        history.record(result, datetime.now(UTC), 1.0)
        # a value the store cannot hold, past validation (as a bug would): the insert fails inside the transaction
        result.recommendations = [rec.model_copy(update={"monthly_savings": "not a number"})
                                  for rec in result.recommendations]
        with pytest.raises(duckdb.ConversionException):
            history.record(result, datetime.now(UTC), 1.0)
        assert len(history.runs()) == 1
        count = history.db.execute("SELECT count(DISTINCT run_id) FROM run_resources").fetchone()[0]
        assert count == 1
