"""Fixtures of the hostile-input suite: the small fleet and its clean run (see fleet.py)."""

from __future__ import annotations

import json

import pytest
from hostile.fleet import FLEET_IDS, Fleet, recommend


@pytest.fixture(scope="session")
def fleet(demo_frames) -> Fleet:
    inventory, metrics = demo_frames
    inventory = inventory[inventory["resource_id"].isin(FLEET_IDS)].reset_index(drop=True)
    assert len(inventory) == len(FLEET_IDS)
    inventory["tags"] = [json.dumps(tags, sort_keys=True) for tags in inventory["tags"]]
    metrics = metrics[metrics["resource_id"].isin(FLEET_IDS)]
    metrics = metrics[metrics["timestamp"].dt.minute == 0].reset_index(drop=True)  # hourly
    metrics["metric"] = metrics["metric"].astype(str)
    metrics["timestamp"] = metrics["timestamp"].map(lambda t: t.isoformat())
    return Fleet(inventory.astype(object), metrics.astype(object))  # any cell may be set to any value


@pytest.fixture(scope="session")
def clean(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    """The clean fleet's recommendations by resource id (every kind has at least one)."""
    run = recommend(fleet.write(tmp_path_factory.mktemp("clean")))
    assert run.exit_code == 0, run.stderr
    records = run.records
    assert len(records) >= 6, sorted(records)
    return records


@pytest.fixture(scope="session")
def instances(fleet: Fleet) -> Fleet:
    """The fleet's two EC2 instances only: for tests of the history, the outputs, and a sample's or an
    instance's value, where kinds are not the point (an audit of two resources costs half one of eight)."""
    ids = fleet.inventory.loc[fleet.inventory["kind"] == "ec2_instance", "resource_id"]
    assert len(ids) == 2
    return fleet.only(*ids)
