"""The registry of resource kinds: every declaration is usable, and a gap in the data is stated, not hidden."""

from __future__ import annotations

import inspect

import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor import kinds
from advisor.kinds.base import CloudWatchMetric, ResourceKind
from advisor.model import Kind, Metric
from advisor.sources.aws import cloudwatch, inventory


def test_the_bundled_kinds_are_the_kinds_of_the_data_model_in_inventory_order():
    assert kinds.ids() == ["ec2_instance", "ebs_volume", "sagemaker_endpoint", "sagemaker_training_job",
                           "sagemaker_tuning_job", "sagemaker_notebook", "batch_compute_environment"]
    assert set(kinds.ids()) == {k.value for k in Kind}


@pytest.mark.parametrize("kind", kinds.all_kinds(), ids=lambda k: k.id)
def test_every_declaration_is_complete(kind: ResourceKind):
    assert kind.problems() == []
    lister = kind.read_inventory()
    assert lister is not None and lister.__module__ == inventory.__name__
    assert list(inspect.signature(lister).parameters) == ["reading"]
    assert kind.pricing is not None
    assert {m.metric for m in kind.metrics} <= {m.value for m in Metric}
    if kind.history_only_if:
        assert kind.needs_history


def test_kinds_that_need_history_without_a_cloudwatch_source_are_exactly_the_stated_gaps():
    gaps = {k.id: k.no_metrics_reason for k in kinds.all_kinds() if k.needs_history and not k.metrics}
    assert gaps == {"sagemaker_notebook": "SageMaker publishes no utilization for notebook instances"}


def test_a_kind_needing_history_must_declare_its_metrics_or_why_it_has_none():
    with pytest.raises(ValueError, match="'toy_box'.*needs a utilization history but declares no CloudWatch metric"):
        ResourceKind(id="toy_box", display_name="toy box", plural="toy boxes", needs_history=True)
    with pytest.raises(ValueError, match="no owner"):
        ResourceKind(id="toy_box", display_name="toy box", plural="toy boxes",
                     metrics=(CloudWatchMetric("Toy", "Use", Metric.CPU),))
    with pytest.raises(ValueError, match="'module:function'"):
        ResourceKind(id="toy_box", display_name="toy box", plural="toy boxes", lister="toys.read")


def test_a_kind_registers_once_and_leaves_when_its_block_ends():
    toy = ResourceKind(id="toy_box", display_name="toy box", plural="toy boxes")
    with kinds.registered(toy):
        assert kinds.get("toy_box") is toy
        with pytest.raises(ValueError, match="already registered"):
            kinds.register(toy)
    with pytest.raises(KeyError, match="unknown resource kind 'toy_box'"):
        kinds.get("toy_box")


def test_the_collector_reads_the_declared_cloudwatch_sources_and_owners():
    declared = [(k.id, m.namespace, m.name) for k in kinds.all_kinds() for m in k.metrics]
    assert [(s.kind, s.namespace, s.name) for s in cloudwatch.sources()] == declared
    assert cloudwatch.owner("sagemaker_endpoint", {"EndpointName": "e", "VariantName": "v"}) == ("e/v", "")
    assert cloudwatch.owner("sagemaker_training_job", {"Host": "job-1/algo-2"}) == ("job-1", "job-1/algo-2")
    assert cloudwatch.owner("sagemaker_notebook", {"NotebookInstanceName": "nb"}) is None


def test_a_notebook_without_metrics_is_skipped_with_the_reason(catalog):
    fleet = FleetBuilder()
    fleet.ec2("i-1", "m5.large", cpu=fleet.noise(10, 20))  # the window comes from the data, not the clock
    fleet.add("nb-quiet", "sagemaker_notebook", instance_type="ml.t3.medium", metrics={})
    fleet.add("vol-quiet", "ebs_volume", volume_type="gp3", size_gib=100, attached_to="i-1", metrics={})
    skipped = audit_fleet(fleet, catalog).skipped.set_index("resource_id")["reason"]
    assert skipped["nb-quiet"] == ("no metrics at all for this resource: SageMaker publishes no utilization for "
                                   "notebook instances")
    assert skipped["vol-quiet"] == "no metrics at all for this resource"
