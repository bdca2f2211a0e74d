"""A kind added through the registry alone (no edit to generic code) goes through the whole audit.

The toy kind is registered at run time, read from a file source, priced by its declaration, judged by a rule pack
of its own and either recommended or skipped with the reason stated. Its CloudWatch metric and owner reach the
collector's tables too.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pytest

from advisor import kinds
from advisor.engine.pipeline import audit
from advisor.kinds.base import CloudWatchMetric, ResourceKind
from advisor.settings import RulesConfig, Settings
from advisor.sources import load_source
from advisor.sources.aws import cloudwatch

START = pd.Timestamp("2026-11-02", tz="UTC")


def _owner(dims: Mapping[str, str]) -> tuple[str, str] | None:
    return (dims["BoxId"], "") if "BoxId" in dims else None


TOY = ResourceKind(
    id="toy_box", display_name="toy box", plural="toy boxes", pricing="instance", service="ec2",
    needs_history=True, metrics=(CloudWatchMetric("Toy/Boxes", "BusyPercent", "cpu"),), owner=_owner,
)
PACK = """\
rules:
  - id: toy-box-idle
    title: Idle toy box
    kind: toy_box
    action: stop
    thresholds: {busy_max: 3}
    when: [cpu_p99, "<=", $busy_max]
    rationale: "{count:.0f} x {instance_type} peaked at {cpu_p99:.1f} % busy"
"""


@pytest.fixture
def toy() -> Iterator[ResourceKind]:
    with kinds.registered(TOY) as kind:
        yield kind


def _write_source(tmp_path) -> str:
    source = tmp_path / "export"
    source.mkdir()
    pd.DataFrame([
        {"resource_id": "box-idle", "kind": "toy_box", "region": "us-east-1", "instance_type": "m5.xlarge",
         "count": 2},
        {"resource_id": "box-new", "kind": "toy_box", "region": "us-east-1", "instance_type": "m5.xlarge"},
        {"resource_id": "box-odd", "kind": "toy_box", "region": "us-east-1", "instance_type": "zz9.huge"},
    ]).to_csv(source / "inventory.csv", index=False)
    rng = np.random.default_rng(7)
    week = pd.date_range(START, periods=7 * 288, freq="5min")
    metrics = [pd.DataFrame({"resource_id": "box-idle", "metric": "cpu", "timestamp": week,
                             "value": rng.uniform(0.2, 1.5, len(week))}),
               pd.DataFrame({"resource_id": "box-new", "metric": "cpu", "timestamp": week[-24:],
                             "value": 50.0})]
    pd.concat(metrics).to_csv(source / "metrics.csv", index=False)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "toy.yaml").write_text(textwrap.dedent(PACK))
    return str(source)


def test_a_registered_kind_is_priced_judged_and_skipped_with_reasons(tmp_path, catalog, toy):
    data = load_source(f"files:{_write_source(tmp_path)}")
    result = audit(data.inventory, data.metrics, catalog, Settings(rules=RulesConfig(dirs=[tmp_path / "rules"])),
                   source_label=data.label)

    [rec] = result.recommendations
    assert (rec.resource_id, rec.kind, rec.rule, rec.action) == ("box-idle", "toy_box", "toy-box-idle", "stop")
    hourly = catalog.hourly_price("m5.xlarge", "us-east-1")
    assert rec.monthly_cost_now == pytest.approx(hourly * 730 * 2, abs=0.01)
    assert rec.monthly_savings == rec.monthly_cost_now
    skipped = result.skipped.set_index("resource_id")["reason"].to_dict()
    assert skipped == {"box-new": "only 2.0 hours of metrics (at least 30 needed): no recommendation yet",
                       "box-odd": "instance type zz9.huge is not in the catalog"}


def test_a_registered_kind_reaches_the_collector_tables(toy):
    [source] = [s for s in cloudwatch.sources() if s.kind == "toy_box"]
    assert (source.namespace, source.name, source.metric) == ("Toy/Boxes", "BusyPercent", "cpu")
    assert cloudwatch.owner("toy_box", {"BoxId": "box-idle"}) == ("box-idle", "")


def test_an_unregistered_kind_is_refused_by_the_file_source_and_the_rule_loader(tmp_path):
    from advisor.engine.pipeline import load_rule_set
    from advisor.errors import RuleError

    data = load_source(f"files:{_write_source(tmp_path)}")  # each row of an unknown kind skips its resource
    assert data.inventory.empty and len(data.problems) == 3
    assert all("field kind: unknown value 'toy_box'" in problem for problem in data.problems)
    with pytest.raises(RuleError, match=r"toy.yaml:4: rule 'toy-box-idle', field 'kind'"):
        load_rule_set(Settings(rules=RulesConfig(dirs=[tmp_path / "rules"])))
