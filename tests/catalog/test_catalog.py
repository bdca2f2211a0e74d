"""The bundled catalog (advisor/data/catalog), as shipped: never reads ../shared."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime

import pytest

from advisor.catalog import REFERENCE_REGION, Catalog, load_catalog, sagemaker_price_class
from advisor.catalog.catalog import source_date
from advisor.errors import CatalogError
from advisor.resources import data_path

# DESIGN.md §5, us-east-1 Linux on-demand USD/h.
REFERENCE_PRICES = {
    "m5.xlarge": 0.192, "c5.xlarge": 0.17, "g4dn.xlarge": 0.526, "g5.xlarge": 1.006, "g6.xlarge": 0.805,
    "p3.2xlarge": 3.06, "inf1.xlarge": 0.228, "inf2.xlarge": 0.758,
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.mark.parametrize(("instance_type", "expected"), REFERENCE_PRICES.items())
def test_reference_prices_within_two_percent(catalog: Catalog, instance_type: str, expected: float) -> None:
    price = catalog.hourly_price(instance_type, "us-east-1")
    assert price is not None
    assert price == pytest.approx(expected, rel=0.02)


def test_g4dn_xlarge_spec(catalog: Catalog) -> None:
    spec = catalog.spec("g4dn.xlarge")
    assert spec is not None
    assert (spec["vcpus"], spec["memory_gib"], spec["gpus"]) == (4, 16.0, 1)
    assert (spec["gpu_model"], spec["gpu_manufacturer"], spec["gpu_memory_gib"]) == ("T4", "NVIDIA", 16.0)
    assert (spec["family"], spec["size"], spec["arch"]) == ("g4dn", "xlarge", "x86_64")


def test_sagemaker_name_maps_to_its_ec2_spec(catalog: Catalog) -> None:
    assert catalog.spec("ml.g4dn.xlarge").equals(catalog.spec("g4dn.xlarge"))
    assert catalog.spec("no.such-type") is None


def test_inf2_is_an_inferentia2_accelerator_not_a_gpu(catalog: Catalog) -> None:
    spec = catalog.spec("inf2.xlarge")
    assert (spec["accelerator"], spec["accelerator_count"], spec["gpus"]) == ("Inferentia2", 1, 0)
    assert sagemaker_price_class(spec) == "accelerator"


def test_retired_gpu_family_keeps_its_model(catalog: Catalog) -> None:
    spec = catalog.spec("p3.8xlarge")
    assert (spec["gpu_model"], spec["gpus"], spec["gpu_memory_gib"]) == ("V100", 4, 64.0)


def test_graviton_type_is_arm64(catalog: Catalog) -> None:
    spec = catalog.spec("m7g.large")
    assert spec["arch"] == "arm64"
    assert "Graviton" in spec["processor"]
    assert catalog.spec("t3.micro")["burstable"]


def test_generation_flags(catalog: Catalog) -> None:
    assert catalog.spec("m4.xlarge")["generation"] == "previous"
    assert catalog.spec("m5.xlarge")["generation"] == "current"
    assert catalog.spec("m7g.large")["generation"] == "current"


def test_offered_excludes_types_not_sold_in_the_region(catalog: Catalog) -> None:
    # g6 is sold in us-east-1 but not in eu-west-1 in this price list.
    assert "g6.xlarge" in catalog.offered("us-east-1").index
    eu = catalog.offered("eu-west-1")
    assert "g6.xlarge" not in eu.index
    assert "g5.xlarge" in eu.index
    assert catalog.hourly_price("g6.xlarge", "eu-west-1") is None
    assert (eu["ondemand_hourly"] > 0).all()
    assert {"vcpus", "gpus", "ondemand_hourly", "spot_hourly", "interruption_band"} <= set(eu.columns)
    assert catalog.offered("xx-nowhere-1").empty


def test_offered_returns_a_copy(catalog: Catalog) -> None:
    frame = catalog.offered("us-east-1")
    frame["ondemand_hourly"] = 0.0
    assert catalog.offered("us-east-1").loc["m5.xlarge", "ondemand_hourly"] == pytest.approx(0.192)


def test_ebs_gp2_per_gib_only(catalog: Catalog) -> None:
    assert catalog.ebs_monthly("gp2", 100, 300, None, "us-east-1") == (pytest.approx(10.0), False)


def test_ebs_gp3_charges_only_above_the_baseline(catalog: Catalog) -> None:
    assert catalog.ebs_monthly("gp3", 100, 3000, 125, "us-east-1") == (pytest.approx(8.0), False)
    # 500 GiB × 0.08 + (6000 − 3000) IOPS × 0.005 + (250 − 125) MiB/s × 0.04 = 40 + 15 + 5
    assert catalog.ebs_monthly("gp3", 500, 6000, 250, "us-east-1") == (pytest.approx(60.0), False)


def test_ebs_io1_charges_every_provisioned_iops(catalog: Catalog) -> None:
    # 200 GiB × 0.125 + 10,000 IOPS × 0.065 = 25 + 650
    assert catalog.ebs_monthly("io1", 200, 10_000, None, "us-east-1") == (pytest.approx(675.0), False)


def test_ebs_io2_iops_tiers(catalog: Catalog) -> None:
    # 12.5 + 32,000 × 0.065 + 32,000 × 0.0455 + 6,000 × 0.03185
    assert catalog.ebs_monthly("io2", 100, 70_000, None, "us-east-1")[0] == pytest.approx(3739.6)


def test_ebs_other_regions_are_scaled_and_flagged(catalog: Catalog) -> None:
    ratio = catalog.region_ratio("eu-west-1")
    assert ratio is not None and 1.0 < ratio < 1.3
    cost, estimated = catalog.ebs_monthly("gp2", 100, None, None, "eu-west-1")
    assert estimated
    assert cost == pytest.approx(10.0 * ratio, rel=1e-3)
    with pytest.raises(CatalogError, match="volume type"):
        catalog.ebs_monthly("gp9", 100, None, None, "us-east-1")


def test_sagemaker_sourced_prices(catalog: Catalog) -> None:
    assert catalog.sagemaker_hourly("ml.m5.xlarge", "us-east-1") == (0.23, False)
    assert catalog.sagemaker_hourly("ml.g4dn.xlarge", "us-east-1") == (0.736, False)
    assert catalog.sagemaker_hourly("ml.p3.2xlarge", "us-east-1") == (3.825, False)


def test_sagemaker_estimates_use_the_family_markup(catalog: Catalog) -> None:
    hourly, estimated = catalog.sagemaker_hourly("ml.g5.xlarge", "us-east-1")
    assert estimated
    assert hourly == pytest.approx(1.006 * 0.736 / 0.526, rel=1e-3)
    # Not in the table: priced at run time from the EC2 price and the CPU markup (0.23 / 0.192).
    ec2 = catalog.hourly_price("r5.large", "ap-south-1")
    hourly, estimated = catalog.sagemaker_hourly("ml.r5.large", "ap-south-1")
    assert estimated
    assert hourly == pytest.approx(ec2 * 0.23 / 0.192, rel=1e-3)
    assert catalog.sagemaker_hourly("ml.nonexistent.xlarge", "us-east-1") is None


def test_sagemaker_table_covers_the_required_types() -> None:
    import pandas as pd

    table = pd.read_csv(data_path("catalog", "sagemaker_prices.csv"))
    required = {"ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.c5.xlarge", "ml.c5.2xlarge",
                "ml.g4dn.xlarge", "ml.g4dn.2xlarge", "ml.g4dn.12xlarge", "ml.g5.xlarge", "ml.g5.2xlarge",
                "ml.g5.12xlarge", "ml.p3.2xlarge", "ml.p3.8xlarge", "ml.inf1.xlarge", "ml.inf2.xlarge",
                "ml.t3.medium", "ml.eia2.medium", "ml.eia2.large", "ml.eia2.xlarge"}
    for region in ("us-east-1", "eu-west-1"):
        assert required <= set(table.loc[table["region"] == region, "instance_type"])
    assert set(table.loc[~table["estimated"], "instance_type"]) == {"ml.m5.xlarge", "ml.g4dn.xlarge", "ml.p3.2xlarge"}
    eia = table[table["instance_type"].str.startswith("ml.eia2.")]
    assert eia["note"].str.contains("April 2024").all()


def test_elastic_inference_is_priced_and_marked_end_of_life(catalog: Catalog) -> None:
    hourly, estimated = catalog.sagemaker_hourly("ml.eia2.medium", "eu-west-1")
    assert estimated and hourly > 0
    shown = catalog.describe("ml.eia2.medium")
    assert shown["spec"] is None
    assert "April 2024" in shown["note"]


def test_describe_known_type_in_one_region(catalog: Catalog) -> None:
    shown = catalog.describe("g4dn.xlarge", region="us-east-1")
    assert shown["spec"]["gpu_model"] == "T4"
    assert [p["region"] for p in shown["prices"]] == ["us-east-1"]
    assert shown["prices"][0]["ondemand_hourly"] == pytest.approx(0.526)
    json.dumps(shown)  # plain values only
    assert catalog.describe("g6.xlarge", region="eu-west-1")["offered"] is False


def test_describe_unknown_type_names_close_matches(catalog: Catalog) -> None:
    with pytest.raises(CatalogError, match=r"unknown instance type 'g4dn\.xlarg'.*g4dn\.xlarge"):
        catalog.describe("g4dn.xlarg")


def test_catalog_json_records_each_source_and_date(catalog: Catalog) -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", catalog.price_list_date)
    by_name = {s["name"]: s for s in catalog.sources}
    assert {"vantage", "moto", "spot_advisor", "ebs", "sagemaker"} <= set(by_name)
    for name in ("vantage", "moto", "spot_advisor"):
        source = by_name[name]
        assert source["repo"] and source["path"] and source["license"] and source["sha256"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["date"])
    assert by_name["vantage"]["date"] == catalog.price_list_date
    info = catalog.info()
    assert info["price_list_date"] == catalog.price_list_date
    counts = info["counts"]
    assert counts["regions"] >= 30 and counts["gpu_types"] > 50 and counts["graviton_types"] > 300
    assert REFERENCE_REGION in info["regions"]


def test_one_spot_figure_from_one_dated_source(catalog: Catalog) -> None:
    """Spot comes from the Spot Instance Advisor only: its savings % and band go together, the Spot price is the
    on-demand price less those savings, and a row the feed does not cover has no Spot figure at all."""
    prices = catalog.prices
    covered = prices["spot_savings_pct"].notna()
    assert (covered == prices["interruption_band"].notna()).all()
    assert (covered == prices["spot_hourly"].notna()).all()
    expected = prices["ondemand_hourly"] * (1 - prices["spot_savings_pct"].astype(float) / 100)
    assert ((prices.loc[covered, "spot_hourly"] - expected[covered]).abs() < 1e-5).all()
    assert catalog.price_source("spot")["name"] == "spot_advisor"
    assert catalog.price_dates(["ec2_ondemand", "spot", "ebs", "sagemaker"]) == {
        "vantage": catalog.price_list_date, "spot_advisor": "2025-06-28", "ebs": "2026", "sagemaker": "2026"}


def test_a_price_source_older_than_the_limit_is_warned_about(catalog: Catalog) -> None:
    july = datetime(2026, 7, 20, tzinfo=UTC)  # vantage 15 days old, Spot Advisor 387, EBS and SageMaker ("2026") 200
    warnings = catalog.info(now=july, max_age_days=180)["warnings"]
    assert [w.split(" ", 1)[0] for w in warnings] == ["spot_advisor", "ebs", "sagemaker"]
    assert warnings[0] == ("spot_advisor (Spot savings and interruption bands) is dated 2025-06-28: 387 days old, "
                           "more than 180; these figures may have changed since")
    assert warnings[1] == ("ebs (EBS prices) is dated only to 2026: up to 200 days old, more than 180; these "
                           "figures may have changed since")  # a year-only date: its first day, and said so
    assert catalog.stale_sources(july, 400) == []
    assert [w.split(" ", 1)[0] for w in catalog.stale_sources(datetime(2027, 1, 2, tzinfo=UTC), 180)] == [
        "vantage", "spot_advisor", "ebs", "sagemaker"]  # the undated Elastic Inference table is listed as undated


def test_source_dates_are_read_at_their_first_possible_day() -> None:
    assert source_date("2025-06-28") == date(2025, 6, 28)
    assert source_date("2026") == date(2026, 1, 1) and source_date("2026-03") == date(2026, 3, 1)
    assert source_date(None) is None and source_date("mid-2026") is None


def test_bundle_is_small_and_fast_to_load() -> None:
    folder = data_path("catalog")
    assert sum(p.stat().st_size for p in folder.iterdir()) < 3 * 1024 * 1024
    start = time.perf_counter()
    fresh = load_catalog(folder)
    fresh.offered("us-east-1")
    assert time.perf_counter() - start < 1.0


def test_missing_catalog_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(CatalogError, match="tools/build_catalog.py"):
        load_catalog(tmp_path)
