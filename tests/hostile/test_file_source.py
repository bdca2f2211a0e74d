"""Items 6, 7 and 8: a value outside its field's domain, an odd timestamp or an unknown value in one row of the
file source skips that row's resource with a reason naming the file, row and field (or is dropped and counted);
every other resource's recommendation is exactly the clean run's.

The cases that skip a resource, and those of free text, share a run per group: each is a twin of a fleet resource
(the same row and samples under an id of its own) holding the bad value, added after the clean fleet. Every twin
that is bad must be skipped with its own reason and row, and every resource of the clean fleet, the twins'
originals included, must keep exactly its clean recommendations (a twin's own may differ: its text changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hostile.fleet import Fleet, Run, assert_clean_error, assert_others_unchanged, recommend

EC2 = "i-0f72591bbaf53e935"
EC2_IDLE = "i-0effd3819a983fb68"
EBS = "vol-0d40840b568b0da13"
ENDPOINT = "embedding-service/AllTraffic"
TRAINING = "bert-pretrain-2026-11-10-10-10-00"
NOTEBOOK = "nb-alice-research"
TUNING = "hpo-bert-classifier"
BATCH = "arn:aws:batch:us-east-1:111111111111:compute-environment/batch-training-ondemand"

# (resource, column, hostile value, what the reason must say); one case or more for every inventory column.
SKIPPED = [
    (EC2, "kind", "lambda", "field kind: unknown value 'lambda'"),
    (EC2, "region", "", "field region: empty (required)"),
    (EC2, "count", "-1", "field count: '-1' is not a whole number from 0 to 10000"),
    (EC2, "count", "1e308", "field count: '1e308' is not a whole number"),
    (EC2, "count", "2.5", "field count: '2.5' is not a whole number"),
    (EC2, "count", "many", "field count: 'many' is not a whole number"),
    (EC2, "lifecycle", "reserved", "field lifecycle: unknown value 'reserved'"),
    (EC2, "tenancy", "shared", "field tenancy: unknown value 'shared' (expected one of default, dedicated, host)"),
    (EC2, "tags", "{not json", "field tags: tags is not valid JSON"),
    (EBS, "volume_type", "gp4", "field volume_type: unknown value 'gp4' (expected one of gp2, gp3"),
    (EBS, "size_gib", "-5", "field size_gib: '-5' is not a number from 1 to 65536"),
    (EBS, "size_gib", "1e9", "field size_gib: '1e9' is not a number from 1 to 65536"),
    (EBS, "iops", "-1", "field iops: '-1' is not a number from 0 to 256000"),
    (EBS, "iops", "1e12", "field iops: '1e12' is not a number"),
    (EBS, "throughput_mibps", "inf", "field throughput_mibps: 'inf' is not a number from 0 to 4000"),
    (ENDPOINT, "min_count", "-1", "field min_count: '-1' is not a whole number"),
    (ENDPOINT, "max_count", "1000000", "field max_count: '1000000' is not a whole number"),
    (ENDPOINT, "autoscaling", "maybe", "field autoscaling: 'maybe' is not true or false"),
    (ENDPOINT, "weight", "nan", "field weight: 'nan' is not a number"),
    (ENDPOINT, "endpoint_type", "batch", "field endpoint_type: unknown value 'batch' (expected one of realtime, "
                                         "async, serverless)"),
    (TRAINING, "instance_groups", "ml.p3.2xlarge", "field instance_groups: 'ml.p3.2xlarge' is not TYPE:COUNT"),
    (TRAINING, "instance_groups", "ml.p3.2xlarge:0", "field instance_groups: 'ml.p3.2xlarge:0' is not TYPE:COUNT"),
    (TRAINING, "warm_pool_seconds", "-1", "field warm_pool_seconds: '-1' is not a number"),
    (TRAINING, "managed_spot", "perhaps", "field managed_spot: 'perhaps' is not true or false"),
    (TRAINING, "checkpointing", "2", "field checkpointing: '2' is not true or false"),
    (TRAINING, "billable_seconds", "-100", "field billable_seconds: '-100' is not a number"),
    (TRAINING, "training_seconds", "1e300", "field training_seconds: '1e300' is not a number"),
    (TUNING, "early_stopping", "Sometimes", "field early_stopping: unknown value 'Sometimes' (expected one of Off"),
    (TUNING, "training_jobs", "1.5", "field training_jobs: '1.5' is not a whole number"),
    (TUNING, "lagging_billable_seconds", "-1", "field lagging_billable_seconds: '-1' is not a number"),
    (BATCH, "max_vcpus", "-4", "field max_vcpus: '-4' is not a whole number"),
    (BATCH, "vcpu_hours", "1e300", "field vcpu_hours: '1e300' is not a number"),
]
# Free text: shown as given (escaped where printed), never breaks the run; resources' advice as in the clean run
# except the victim's own, which may legitimately change (its type or name changed).
INERT = [
    (EC2, "account", "=cmd|' /C calc'!A0"),
    (EC2, "name", "\x1b[2J\x1b]0;owned\x07evil\nname"),
    (EC2, "state", "\x1b[31mrunning"),
    (EBS, "attached_to", "i-does-not-exist"),
    (ENDPOINT, "endpoint", "x" * 5000),
    (ENDPOINT, "variant", "\u202eevil"),
    (EC2, "accelerator_type", "eia9.gigantic"),
    (BATCH, "allocation_strategy", "WHATEVER"),
    (NOTEBOOK, "instance_type", "ml.t9.huge"),
    (EC2, "capacity_reservation", "\x1b[31mcr-0evil"),
    (EC2, "outpost", "=HYPERLINK(\"http://x\")"),
]


def _run(fleet: Fleet, tmp_path: Path, *extra: str):
    return recommend(fleet.write(tmp_path / "export"), *extra)


def _set(fleet: Fleet, resource_id: str, column: str, value: object) -> Fleet:
    hostile = fleet.copy()
    hostile.inventory.loc[hostile.row(resource_id), column] = value
    return hostile


@dataclass
class Twins:
    """One run of the clean fleet with a twin per case added: the run, and each case's twin id and file row."""
    run: Run
    twins: dict[tuple[str, str, str], tuple[str, int]]

    def check(self, clean: dict[str, list[dict]], case: tuple[str, str, str], file: str, reason: str) -> None:
        twin, row = self.twins[case]
        assert_others_unchanged(self.run, clean, *(twin for twin, _ in self.twins.values()))
        assert twin not in self.run.records
        assert f"{twin} skipped: {file} row {row}, {reason}" in self.run.stderr, self.run.stderr


def _twins(fleet: Fleet, directory: Path, cases: list[tuple[str, str, str]],
           spoil: Callable[[Fleet, pd.DataFrame, pd.DataFrame, str, str], int]) -> Twins:
    """Add a twin of each case's resource to the clean fleet; ``spoil(fleet, twin_row, twin_samples, column,
    value)`` puts the bad value in the twin's row or samples and returns the 0-based row it is in."""
    hostile = fleet.copy()
    twins = {}
    for number, (victim, column, value) in enumerate(cases):
        twin = f"{victim}-twin-{number}"
        row = hostile.inventory.loc[[hostile.row(victim)]].assign(resource_id=twin)
        samples = fleet.metrics[fleet.metrics["resource_id"] == victim].assign(resource_id=twin)
        hostile.inventory = pd.concat([hostile.inventory, row], ignore_index=True)
        samples.index = range(len(hostile.metrics), len(hostile.metrics) + len(samples))
        hostile.metrics = pd.concat([hostile.metrics, samples])
        twins[(victim, column, value)] = (twin, spoil(hostile, hostile.inventory.index[-1], samples.index, column,
                                                      value) + 2)
    return Twins(_run(hostile, directory), twins)


def _spoil_inventory(hostile: Fleet, row: int, samples: pd.Index, column: str, value: str) -> int:
    hostile.inventory.loc[row, column] = value
    return row


@pytest.fixture(scope="module")
def inventory_twins(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Twins:
    return _twins(fleet, tmp_path_factory.mktemp("inventory-twins"), [case[:3] for case in SKIPPED],
                  _spoil_inventory)


@pytest.mark.parametrize(("victim", "column", "value", "reason"), SKIPPED,
                         ids=[f"{c}={v!r}" for _, c, v, _ in SKIPPED])
def test_a_bad_inventory_value_skips_its_resource(clean, inventory_twins: Twins, victim: str, column: str,
                                                  value: str, reason: str) -> None:
    inventory_twins.check(clean, (victim, column, value), "inventory.csv", reason)


@pytest.fixture(scope="module")
def inert_twins(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Twins:
    return _twins(fleet, tmp_path_factory.mktemp("inert-twins"), INERT, _spoil_inventory)


@pytest.mark.parametrize(("victim", "column", "value"), INERT, ids=[c for _, c, _ in INERT])
def test_free_text_is_inert(clean, inert_twins: Twins, victim: str, column: str, value: str) -> None:
    assert_others_unchanged(inert_twins.run, clean, *(twin for twin, _ in inert_twins.twins.values()))


def test_a_row_without_resource_id_is_ignored_and_counted(fleet: Fleet, clean, tmp_path: Path) -> None:
    small = fleet.only(EC2, NOTEBOOK)  # the victim and a neighbour of another kind
    run = _run(_set(small, NOTEBOOK, "resource_id", ""), tmp_path)
    assert_others_unchanged(run, small.clean_of(clean), NOTEBOOK)
    assert f"inventory.csv: 1 row(s) with an empty resource_id ignored (row {small.row(NOTEBOOK) + 2})" in run.stderr
    assert "metrics.csv: " in run.stderr and "not in the inventory ignored (first: 'nb-alice-research'" in run.stderr


def test_a_duplicated_resource_id_skips_that_resource(fleet: Fleet, clean, tmp_path: Path) -> None:
    small = fleet.only(EC2, EBS)  # the victim, and a neighbour of another kind (the instance it is attached to)
    hostile = small.copy()
    hostile.inventory = pd.concat([hostile.inventory, hostile.inventory.iloc[[small.row(EBS)]]], ignore_index=True)
    run = _run(hostile, tmp_path)
    assert_others_unchanged(run, small.clean_of(clean), EBS)
    assert f"rows {small.row(EBS) + 2} and {len(small.inventory) + 2}: resource_id '{EBS}' appears more" in run.stderr


# (victim's metric, column, value, reason): one case or more for every metrics column.
SAMPLES = [
    ("cpu", "value", "-5", "field value: cpu '-5' is outside 0 to 100 %"),
    ("cpu", "value", "150", "field value: cpu '150' is outside 0 to 100 %"),
    ("cpu", "value", "1150", "field value: cpu '1150' is outside 0 to 100 %"),
    ("cpu", "value", "abc", "field value: 'abc' is not a finite number"),
    ("cpu", "value", "inf", "field value: 'inf' is not a finite number"),
    ("network_in", "value", "1e308", "field value: network_in '1e308' is outside 0 to 1e+12"),
    ("cpu", "metric", "disk", "field metric: unknown metric 'disk'"),
    ("cpu", "timestamp", "yesterday", "field timestamp: 'yesterday' is not an ISO 8601 date"),
    ("cpu", "stat", "median", "field stat: unknown value 'median' (expected one of avg, max)"),
]


def _sample_row(fleet: Fleet, resource_id: str, metric: str) -> int:
    frame = fleet.metrics
    return int(frame.index[(frame["resource_id"] == resource_id) & (frame["metric"] == metric)][5])


# (column, value) -> the metric of the sample the value goes in
SAMPLE_METRIC = {(column, value): metric for metric, column, value, _ in SAMPLES}


def _spoil_sample(hostile: Fleet, row: int, samples: pd.Index, column: str, value: str) -> int:
    frame = hostile.metrics.loc[samples]
    spoilt = int(frame.index[frame["metric"] == SAMPLE_METRIC[column, value]][5])
    hostile.metrics.loc[spoilt, column] = value
    return spoilt


@pytest.fixture(scope="module")
def sample_twins(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Twins]:
    """The sample cases' twins of the idle instance, by whether the case is the stat column's: those run without
    a stat column (as the fleet is written), the stat case with every sample's stat "avg" but its own."""
    with_stat = fleet.copy()
    with_stat.metrics["stat"] = "avg"
    runs = {}
    for stat, base in ((False, fleet), (True, with_stat)):
        cases = [(EC2_IDLE, column, value) for _, column, value, _ in SAMPLES if (column == "stat") == stat]
        runs[stat] = _twins(base, tmp_path_factory.mktemp("sample-twins"), cases, _spoil_sample)
    return runs


@pytest.mark.parametrize(("metric", "column", "value", "reason"), SAMPLES, ids=[f"{c}={v}" for _, c, v, _ in SAMPLES])
def test_a_bad_sample_skips_its_resource(clean, sample_twins: dict[bool, Twins], metric: str, column: str,
                                         value: str, reason: str) -> None:
    sample_twins[column == "stat"].check(clean, (EC2_IDLE, column, value), "metrics.csv", reason)


# The cases below spoil one instance's sample, or its count, or the window: the fleet's two instances (the victim and
# an unaffected neighbour) show the drop, the count or the skip as the whole fleet would.

def test_an_empty_value_is_a_missing_sample(instances: Fleet, clean, tmp_path: Path) -> None:
    hostile = instances.copy()
    hostile.metrics.loc[_sample_row(instances, EC2_IDLE, "cpu"), "value"] = ""
    run = _run(hostile, tmp_path)
    assert "metrics.csv: 1 sample(s) with an empty value ignored" in run.stderr
    assert_others_unchanged(run, instances.clean_of(clean), EC2_IDLE)


def test_percentages_a_hair_over_100_are_clipped(instances: Fleet, clean, tmp_path: Path) -> None:
    hostile = instances.copy()
    hostile.metrics.loc[_sample_row(instances, EC2, "cpu"), "value"] = "100.4"
    assert_others_unchanged(_run(hostile, tmp_path), instances.clean_of(clean), EC2)


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00Z", "1753-01-01T00:00:00Z", "1900-01-01T00:00:00Z",
                                   "2200-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_sample_dated_far_away_is_dropped_and_counted(instances: Fleet, clean, tmp_path: Path, stamp: str) -> None:
    hostile = instances.copy()
    row = _sample_row(instances, EC2_IDLE, "cpu")
    hostile.metrics.loc[row, "timestamp"] = stamp
    run = _run(hostile, tmp_path)
    assert (f"metrics.csv: 1 sample(s) dated outside the analysis window 2026-11-02 00:00 to 2026-11-15 23:00 UTC "
            f"dropped (first on row {row + 2}: '{stamp}')") in run.stderr, run.stderr
    assert_others_unchanged(run, instances.clean_of(clean), EC2_IDLE)


def test_the_window_comes_from_the_command(instances: Fleet, tmp_path: Path) -> None:
    run = _run(instances, tmp_path, "--start", "2026-11-09", "--end", "2026-11-15T23:00")
    assert run.exit_code == 0, run.stderr
    assert "sample(s) dated outside the analysis window 2026-11-09 00:00 to 2026-11-15 23:00 UTC dropped" in run.stderr
    assert_clean_error(_run(instances, tmp_path, "--start", "2026-11-15", "--end", "2026-11-09"), 2,
                       "--start 2026-11-15 00:00 is not before --end 2026-11-09 00:00")


def test_repeated_samples_are_counted_once(instances: Fleet, clean, tmp_path: Path) -> None:
    hostile = instances.copy()
    hostile.metrics = pd.concat([hostile.metrics, hostile.metrics.iloc[:50]], ignore_index=True)
    run = _run(hostile, tmp_path)
    assert "metrics.csv: 50 repeated sample(s) (same resource, metric and time) ignored" in run.stderr
    assert_others_unchanged(run, instances.clean_of(clean))


def test_fail_on_savings_cannot_be_bypassed_by_overflow(instances: Fleet, tmp_path: Path) -> None:
    hostile = _set(instances, EC2, "count", "1e308")
    run = _run(hostile, tmp_path, "--fail-on-savings", "1")
    assert run.exit_code == 3, run.stderr
    assert "exceed --fail-on-savings" in run.stderr and f"{EC2} skipped" in run.stderr
