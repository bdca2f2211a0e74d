"""Confidence that means something: each band's score is the share of that band's advice that held when replayed,
and a finding resting on a missing metric or on censored demand is never "high"."""

import json

import numpy as np
import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.engine.confidence import backtest_bands, confidence_bands
from advisor.resources import data_path


def _by_band(bands) -> dict[str, float]:
    return {band.band: band.probability for band in bands.bands}


def test_the_packaged_table_gives_each_band_its_backtested_hold_rate():
    table = json.loads(data_path("confidence", "hold_rates.json").read_text())
    bands = backtest_bands()
    assert (bands.source, bands.measured, bands.fleet) == (table["source"], table["measured"], False)
    rates = {band: (c["held"] + 1) / (c["judged"] + 2) for band, c in table["bands"].items()}
    p = _by_band(bands)
    assert p["low"] <= p["medium"] <= p["high"]
    assert p["low"] == 0.5 and table["bands"]["low"]["judged"] == 0  # never judged: unknown, not a guess
    # high held more often than medium on the tuned datasets: each band keeps its own rate (no pooling)
    assert rates["medium"] < rates["high"]
    assert p["high"] == pytest.approx(rates["high"], abs=5e-4) and p["medium"] == pytest.approx(rates["medium"],
                                                                                                 abs=5e-4)


def test_the_fleets_own_replay_moves_a_band_towards_what_held_there():
    base = _by_band(backtest_bands())
    worse = _by_band(confidence_bands({"high": {"judged": 200, "held": 120}}))
    assert worse["high"] < base["high"] - 0.2  # 60 % held on this fleet: the band's probability follows
    assert worse["low"] <= worse["medium"] <= worse["high"]  # and stays monotone (medium pooled with it)
    better = _by_band(confidence_bands({"low": {"judged": 40, "held": 40}}))
    assert better["low"] > 0.8 and better["high"] >= better["low"]  # (40 + 20 x 0.5) / 60


@pytest.fixture(scope="module")
def audited(catalog):
    fleet = FleetBuilder()
    hour = (fleet.t_days % 1) * 24
    busy = fleet.noise(2e5, 2e6)
    # full evidence: CPU, memory and network over two weeks
    fleet.ec2("i-measured", "m5.2xlarge", cpu=fleet.noise(5, 15), memory=fleet.noise(20, 25), network_in=busy,
              network_out=busy)
    # no network metrics: at most "possibly idle: verify"
    fleet.ec2("i-no-network", "m5.4xlarge", cpu=fleet.noise(0.5, 1.5), memory=fleet.noise(30, 32),
              measured_network=False)
    # no memory metrics: sized on CPU with memory held
    fleet.ec2("i-no-memory", "m5.4xlarge", cpu=fleet.noise(2, 8), network_in=busy, network_out=busy)
    # CPU pinned at the capacity 90 minutes a day: censored demand
    fleet.ec2("i-pinned", "m5.2xlarge", cpu=np.where((hour >= 10) & (hour < 11.5), 100.0, fleet.noise(5, 10)),
              memory=fleet.noise(20, 25), network_in=busy, network_out=busy)
    return audit_fleet(fleet, catalog)


def test_every_finding_carries_its_bands_probability(audited):
    bands = backtest_bands()
    assert audited.recommendations
    for rec in audited.recommendations:
        assert rec.confidence_score == bands.probability(rec.confidence)


def test_a_finding_on_a_missing_metric_or_censored_demand_is_never_high(audited):
    by_resource: dict[str, list] = {}
    for rec in audited.recommendations:
        by_resource.setdefault(rec.resource_id, []).append(rec)
    assert {rec.confidence for rec in by_resource["i-measured"]} == {"high"}  # the bands do separate
    verify = [rec for rec in by_resource["i-no-network"] if rec.rule == "ec2-possibly-idle"]
    assert verify and all(rec.confidence == "low" and rec.confidence_score == 0.5 for rec in verify)
    # each finding says which missing metric or censored dimension holds it below high ("install the CloudWatch
    # agent" is advice about the missing metric, not advice resting on it)
    notes = {"i-no-network": ("Rests on missing metrics", "No network metrics"), "i-no-memory": ("No memory metrics",),
             "i-pinned": ("censored at capacity",)}
    for resource_id, said in notes.items():
        findings = [rec for rec in by_resource[resource_id] if rec.action != "install_agent"]
        assert findings, resource_id
        for rec in findings:
            assert rec.confidence != "high", (resource_id, rec.rule)
            assert any(note in " ".join(rec.evidence.notes) for note in said), (resource_id, rec.rule)
