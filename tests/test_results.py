"""The typed result: what it serialises to (the published JSON) and how options keep their action's fields."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from advisor.results import RECOMMENDATION_FIELDS, Option, Recommendation, recommendations_frame

RECOMMENDATION = {
    "resource_id": "vol-1", "kind": "ebs_volume", "account": "111122223333", "region": "us-east-1", "name": "data",
    "tags": {"team": "ml"}, "rule": "ebs-gp2-to-gp3", "title": "gp2 to gp3", "action": "migrate-gp3",
    "severity": "low", "current": "gp2", "target": "gp3", "monthly_cost_now": 10.0, "monthly_cost_after": 8.0,
    "monthly_savings": 2.0, "confidence": "high", "confidence_score": 0.9, "risk": 0,
    "projected_utilization": {"iops": 12.5},
    "evidence": {"window": "2026-01-01 00:00 to 2026-01-15 00:00 UTC", "rule": "ebs-gp2-to-gp3",
                 "notes": ["one"], "volume": {"type": "gp2", "size_gib": 100.0}},
    "rationale": "gp3 costs less.",
    "options": [{"instance_type": "gp3", "volume_type": "gp3", "size_gib": 100.0, "iops": 3000.0, "label": "gp3",
                 "monthly_cost": 8.0, "price_estimated": False, "risk": 0, "rank": 1}],
    "price_estimated": False, "price_list_date": "2026-01-15",
}


def test_options_keep_the_fields_and_order_their_action_wrote() -> None:
    written = {"instance_type": "m5.large", "label": "m5.large", "rank": 1, "monthly_cost": 70.08,
               "interruption": "<5%", "risk": 1}
    option = Option.model_validate(written)
    assert list(option.model_dump(mode="json")) == list(written)  # rank third, as the action wrote it
    assert option.model_dump(mode="json") == written  # no unstated field appears as null
    assert option.monthly_cost == 70.08 and option.risk == 1 and option.iops is None
    cheaper = option.updated(monthly_cost=60.0, monthly_savings=10.08)
    assert list(cheaper.model_dump()) == [*written, "monthly_savings"]
    assert cheaper.monthly_cost == 60.0 and option.monthly_cost == 70.08


def test_a_recommendation_serialises_to_the_published_json() -> None:
    rec = Recommendation.model_validate(RECOMMENDATION)
    dumped = rec.model_dump(mode="json")
    assert list(dumped) == list(RECOMMENDATION_FIELDS)
    assert json.dumps(dumped["risk"]) == "0.0"  # the band has always been written as a number like 0.0
    assert dumped["options"] == RECOMMENDATION["options"]
    evidence = dumped["evidence"]
    assert evidence["volume"] == {"type": "gp2", "size_gib": 100.0}  # the action's own section, after the core
    assert list(evidence)[-1] == "volume" and list(evidence)[:2] == ["window", "hours_observed"]
    assert rec.evidence.rule == "ebs-gp2-to-gp3" and rec.options[0].iops == 3000.0


@pytest.mark.parametrize("field, value", [("confidence", "certain"), ("monthly_savings", "a lot"),
                                          ("risk", "high")])
def test_a_malformed_recommendation_is_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Recommendation.model_validate(RECOMMENDATION | {field: value})


def test_the_frame_has_one_column_per_field_even_when_empty() -> None:
    assert list(recommendations_frame([]).columns) == list(RECOMMENDATION_FIELDS)
    frame = recommendations_frame([Recommendation.model_validate(RECOMMENDATION)])
    assert frame.loc[0, "options"][0]["volume_type"] == "gp3" and frame.loc[0, "monthly_savings"] == 2.0
