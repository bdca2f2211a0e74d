"""The CloudWatch agent as users run it: a namespace of their own, memory under its default ``host`` dimension
(the hostname) rather than ``InstanceId``, and the Windows agent's memory counter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from awsfakes import Seeder, now_floor

from advisor.catalog import load_catalog
from advisor.cli.aws_request import aws_request
from advisor.config import load_config
from advisor.errors import ConfigError
from advisor.sources.aws.cloudwatch import Owners, sources
from advisor.sources.aws.collect import collect_into_store, load_frames
from advisor.sources.aws.session import AgentOptions, AwsOptions
from advisor.sources.aws.window import Window
from advisor.store.cache import Store

STEPS = 24  # two hours of 5-minute points


def _memory(seed: Seeder, tmp_path, agent: AgentOptions) -> dict[str, float]:
    """Median memory % per instance, collected with ``agent``."""
    end = now_floor()
    window = Window.build(start=end - timedelta(hours=2), end=end)
    with Store(tmp_path / f"{agent.namespace}-{'-'.join(agent.memory_dimensions)}.duckdb") as store:
        collection = collect_into_store(AwsOptions(agent=agent), store, window)
        _, metrics, problems = load_frames(store, collection, load_catalog())
    assert collection.problems == [] and problems == []
    memory = metrics[metrics["metric"] == "memory"]
    return memory.groupby("resource_id", observed=True)["value"].median().to_dict()


@pytest.fixture
def agents(seed: Seeder) -> dict[str, str]:
    """A Linux agent publishing to its own namespace under ``host`` only, and a Windows agent's memory counter."""
    end = now_floor()
    linux = seed.instance("m5.large", root_volume=False)
    windows = seed.instance("m5.large", root_volume=False)
    host = seed.client("ec2").describe_instances(InstanceIds=[linux])["Reservations"][0]["Instances"][0][
        "PrivateDnsName"]
    assert host  # the agent's default "host" dimension is the instance's hostname
    seed.series("Fleet/Agent", "mem_used_percent", {"host": host.split(".")[0]}, [62.0] * STEPS, end)
    seed.series("CWAgent", "Memory % Committed Bytes In Use", {"InstanceId": windows, "objectname": "Memory"},
                [41.0] * STEPS, end)
    return {"linux": linux, "windows": windows}


def test_memory_under_the_host_dimension_in_a_custom_namespace(agents: dict[str, str], tmp_path) -> None:
    configured = _memory(Seeder(), tmp_path, AgentOptions("Fleet/Agent", ("InstanceId", "host")))
    assert configured[agents["linux"]] == pytest.approx(62.0)
    # the defaults (CWAgent, InstanceId) do not see that agent: its memory is absent, never read as zero
    default = _memory(Seeder(), tmp_path, AgentOptions())
    assert agents["linux"] not in default


def test_the_windows_agent_memory_counter_is_read(agents: dict[str, str], tmp_path) -> None:
    assert _memory(Seeder(), tmp_path, AgentOptions())[agents["windows"]] == pytest.approx(41.0)


def test_the_agent_settings_come_from_advisor_toml(tmp_path, aws: str) -> None:
    path = tmp_path / "advisor.toml"
    path.write_text('[aws]\nagent_namespace = "Fleet/Agent"\nagent_memory_dimensions = ["host", "InstanceId"]\n')
    aws_config = load_config(path).config.aws
    request = aws_request(aws_config, 1, None, None, tmp_path / "s.duckdb", quiet=True)
    assert request.options.agent == AgentOptions("Fleet/Agent", ("host", "InstanceId"))
    path.write_text('[aws]\nregions = ["us-east-1"]\n')
    default = load_config(path).config.aws
    assert (default.agent_namespace, default.agent_memory_dimensions) == ("CWAgent", ["InstanceId"])
    path.write_text('[aws]\nagent_memory_dimensions = ["hostname"]\n')
    with pytest.raises(ConfigError, match="agent_memory_dimensions"):
        load_config(path)


def test_a_hostname_two_instances_share_names_neither() -> None:
    """The same private IP in two VPCs gives two instances one hostname: the agent's host cannot tell them apart."""
    rows = [{"kind": "ec2_instance", "resource_id": "i-a", "private_dns_name": "ip-10-0-0-5.ec2.internal"},
            {"kind": "ec2_instance", "resource_id": "i-b", "private_dns_name": "ip-10-0-0-5.ec2.internal"},
            {"kind": "ec2_instance", "resource_id": "i-c", "private_dns_name": "ip-10-0-0-6.ec2.internal"}]
    owners = Owners.of(AgentOptions(memory_dimensions=("host",)), rows)
    memory = next(s for s in sources() if s.name == "mem_used_percent")
    assert owners(memory, {"host": "ip-10-0-0-5"}) is None
    assert owners(memory, {"host": "ip-10-0-0-6"}) == ("i-c", "")
    assert owners(memory, {"host": "ip-10-0-0-6.ec2.internal"}) == ("i-c", "")
    assert owners(memory, {"InstanceId": "i-a"}) is None  # InstanceId is not among the configured dimensions
