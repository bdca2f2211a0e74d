"""Accelerator capacity from the throughput table, and the rules sizing follows when it crosses GPU models."""

import numpy as np
import pandas as pd
import pytest

from advisor.catalog import load_catalog
from advisor.engine import accelerators
from advisor.engine.candidates import candidates


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _capacity(catalog, *types: str) -> pd.DataFrame:
    return accelerators.capacity(catalog.types.loc[list(types)])


def test_capacity_counts_devices_shares_and_neuron_chips(catalog):
    cap = _capacity(catalog, "g4dn.12xlarge", "g6f.large", "inf1.6xlarge", "inf2.xlarge", "m5.large", "f1.2xlarge")
    assert cap.loc["g4dn.12xlarge", ["units", "fp16", "fp32", "accel_memory", "device_memory"]].tolist() == \
        [4, 260, pytest.approx(32.4), 64, 16]
    assert cap.at["g6f.large", "units"] == 0.125 and cap.at["g6f.large", "fp16"] == pytest.approx(121 / 8)
    assert cap.at["inf1.6xlarge", "accel_class"] == "inferentia" and cap.at["inf1.6xlarge", "fp16"] == 4 * 64
    assert cap.at["inf2.xlarge", "fp32"] == 47.5 and cap.at["inf2.xlarge", "accel_vendor"] == "AWS"
    assert cap.at["m5.large", "accel_class"] == "cpu" and cap.at["m5.large", "fp16"] == 0
    assert cap.at["f1.2xlarge", "accel_class"] == "other" and np.isnan(cap.at["f1.2xlarge", "fp16"])


def test_elastic_inference_attachment_counts_as_the_accelerator():
    specs = pd.DataFrame({"gpus": [0, 0], "accelerator_count": [0, 0],
                          "accelerator_type": ["ml.eia2.large", None]}, index=["ei", "plain"])
    cap = accelerators.capacity(specs)
    assert cap.loc["ei", ["accel_class", "fp16", "fp32", "accel_memory"]].tolist() == \
        ["elastic_inference", 16, 2, 4]
    assert cap.at["plain", "accel_class"] == "cpu"
    assert accelerators.is_elastic_inference(pd.Series(["eia2.medium", "ml.eia1.large", "ml.g4dn.xlarge", None])) \
        .tolist() == [True, True, False, False]
    assert "April 2024" in accelerators.elastic_inference_notice()


def test_every_gpu_and_neuron_model_of_current_families_is_in_the_table_or_left_alone(catalog):
    table = accelerators.throughput_table()
    cap = accelerators.capacity(catalog.types)
    known = cap[cap["accel_class"].isin(["gpu", "inferentia", "trainium"]) & cap["fp16"].notna()]
    assert set(known["accel_model"]) <= set(table.index)
    for model in ("T4", "A10G", "L4", "L40S", "V100", "A100", "H100", "K80", "M60", "T4g", "Inferentia",
                  "Inferentia2", "Trainium"):
        assert model in set(cap["accel_model"]) and model in table.index


def test_sagemaker_candidates_are_limited_to_sagemaker_families_and_priced_as_sagemaker(catalog):
    hosting = candidates(catalog, "us-east-1", "hosting", False)
    assert hosting["name"].str.startswith("ml.").all()
    assert "g6f.large" not in hosting.index and "g4dn.xlarge" in hosting.index
    assert hosting.at["g4dn.xlarge", "hourly"] == 0.736 and not hosting.at["g4dn.xlarge", "estimated"]
    ec2 = candidates(catalog, "us-east-1", "ec2", False)
    assert ec2.at["g4dn.xlarge", "hourly"] == 0.526
