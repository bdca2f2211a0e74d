"""EBS as AWS defines it: sized from the busiest minute, a peak at the volume's limit is censored, gp3's 80,000
IOPS / 2,000 MiB/s limits, gp2 bursts only under 1,000 GiB, gp3 never for a Multi-Attach volume, io2's durability.

Prices (bundled catalog, us-east-1): gp3 0.08/GiB + 0.005 per IOPS over 3,000 + 0.04 per MiB/s over 125;
io1/io2 0.125/GiB + 0.065 per provisioned IOPS (io2 0.0455 from 32,001).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.results import recommendations_frame

MIB = 2**20


def _volume(fleet: FleetBuilder, rid: str, volume_type: str, size: int, iops: float | None = None,
            throughput: float | None = None, **fields) -> None:
    metrics = {k: v for k, v in fields.items() if isinstance(v, np.ndarray)}
    extra = {k: v for k, v in fields.items() if not isinstance(v, np.ndarray)}
    fleet.add(rid, "ebs_volume", volume_type=volume_type, size_gib=size, iops=iops, throughput_mibps=throughput,
              attached_to="i-host", metrics=metrics, **extra)


def _findings(fleet: FleetBuilder, catalog) -> tuple[pd.DataFrame, pd.Series]:
    result = audit_fleet(fleet, catalog)
    return recommendations_frame(result.recommendations).set_index("resource_id"), \
        result.skipped.set_index("resource_id")["reason"]


def _quiet_with_a_burst(fleet: FleetBuilder, low: float, burst: float) -> np.ndarray:
    values = np.full(fleet.n, low)
    values[fleet.n // 2] = burst  # one busy minute's rate in the whole window
    return values


def test_a_peak_at_the_provisioned_iops_is_censored_and_sized_above_it(catalog):
    fleet = FleetBuilder()
    # io1 at 10,000 IOPS: p99 600 (6 %), but its busiest minute ran at the limit (99 %), so the need is at least
    # 10,000, not the 9,900 seen
    _volume(fleet, "vol-capped", "io1", 500, 10_000, read_iops=_quiet_with_a_burst(fleet, 600.0, 9_900.0))
    _volume(fleet, "vol-free", "io1", 500, 10_000, read_iops=_quiet_with_a_burst(fleet, 600.0, 5_000.0))
    found, _ = _findings(fleet, catalog)
    capped, free = found.loc["vol-capped"], found.loc["vol-free"]
    # gp3 at the limit + 20 % (not 9,900 + 20 % = 11,880): 12,000 IOPS, 9,000 above the included 3,000: 40 + 45
    assert (capped["target"], capped["options"][0]["iops"]) == ("gp3", 12_000)
    assert capped["monthly_cost_after"] == pytest.approx(500 * 0.08 + 9_000 * 0.005)
    assert capped["confidence"] != "high" and capped["evidence"]["volume"]["censored"] == ["IOPS"]
    assert any(note.startswith("Censored peak: IOPS reached 9,900 of the volume's 10,000 limit")
               for note in capped["evidence"]["notes"])
    assert all(o["volume_type"] != "io1" for o in capped["options"])  # lowering io1 would not hold the need
    # an uncensored busiest minute is the need: 5,000 x 1.2 = 6,000 IOPS
    assert free["options"][0]["iops"] == 6_000 and free["evidence"]["volume"]["censored"] == []


def test_gp3_reaches_80000_iops_and_2000_mibps_now(catalog):
    fleet = FleetBuilder()
    # io2 at 64,000 IOPS whose busiest minute needed 40,000 IOPS and 1,500 MiB/s: over gp3's old 16,000 / 1,000
    _volume(fleet, "vol-big", "io2", 4000, 64_000, 4_000, read_iops=_quiet_with_a_burst(fleet, 1000.0, 40_000.0),
            read_bytes=_quiet_with_a_burst(fleet, 10 * MIB, 1500 * MIB))
    found, _ = _findings(fleet, catalog)
    rec = found.loc["vol-big"]
    gp3 = next(o for o in rec["options"] if o["volume_type"] == "gp3")
    assert (gp3["iops"], gp3["throughput_mibps"]) == (48_000, 1_800)
    assert rec["target"] == "gp3"
    # io2 -> gp3 gives up io2's durability, and the finding says so
    assert "io2 volumes are designed for 99.999 %" in gp3["note"]
    assert any("99.999 %" in note for note in rec["evidence"]["notes"]) and "99.999 %" in rec["rationale"]


def test_a_multi_attach_volume_is_never_moved_to_gp3(catalog):
    fleet = FleetBuilder()
    reads = _quiet_with_a_burst(fleet, 500.0, 2_000.0)
    _volume(fleet, "vol-shared", "io2", 500, 20_000, read_iops=reads, multi_attach=True)
    _volume(fleet, "vol-alone", "io2", 500, 20_000, read_iops=reads, multi_attach=False)
    found, _ = _findings(fleet, catalog)
    shared, alone = found.loc["vol-shared"], found.loc["vol-alone"]
    assert [o["volume_type"] for o in shared["options"]] == ["io2"] and shared["options"][0]["iops"] == 2_400
    assert shared["evidence"]["volume"]["multi_attach"] is True
    assert any(note.startswith("Multi-Attach is enabled") for note in shared["evidence"]["notes"])
    assert alone["target"] == "gp3"  # the same volume without Multi-Attach


def test_gp2_bursts_only_under_1000_gib(catalog):
    fleet = FleetBuilder()
    draining = np.linspace(100, 5, fleet.n)
    reads = np.full(fleet.n, 2500.0)
    _volume(fleet, "vol-small", "gp2", 500, 1500, read_iops=reads, burst_balance=draining)
    # 1,000 GiB: baseline 3,000 IOPS, no credits used (a BurstBalance series there says nothing about credits)
    _volume(fleet, "vol-1t", "gp2", 1000, 3000, read_iops=reads, burst_balance=draining)
    found, _ = _findings(fleet, catalog)
    assert found.loc["vol-small", "rule"] == "ebs-gp2-burst-draining"
    assert found.loc["vol-1t", "rule"] == "ebs-gp2-to-gp3"  # only the cost move, not a burst fix
