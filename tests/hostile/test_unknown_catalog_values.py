"""An inventory read from AWS (not the file source, which checks its columns first) may name a volume type the
catalog does not know: that volume is skipped with a reason, and the rest of the run is unchanged."""

from __future__ import annotations

from fleet_builders import FleetBuilder, audit_fleet


def _fleet(volume_type: str) -> FleetBuilder:
    fleet = FleetBuilder(days=14)
    fleet.ec2("i-busy", "m5.2xlarge", cpu=fleet.noise(2, 6), memory=fleet.noise(5, 10))
    fleet.add("vol-ok", "ebs_volume", metrics={}, volume_type="gp2", size_gib=500.0, state="available")
    fleet.add("vol-new", "ebs_volume", metrics={}, volume_type=volume_type, size_gib=500.0, state="available")
    return fleet


def test_an_unknown_volume_type_skips_its_volume_and_changes_nothing_else(catalog):
    clean = audit_fleet(_fleet("gp2"), catalog)
    odd = audit_fleet(_fleet("gp4"), catalog)

    skipped = odd.skipped.set_index("resource_id")["reason"].to_dict()
    assert "vol-new" in skipped and "no EBS price" in skipped["vol-new"]
    others = [r.model_dump() for r in clean.recommendations if r.resource_id != "vol-new"]
    assert [r.model_dump() for r in odd.recommendations] == others
