"""``advisor catalog refresh``: EC2 APIs from moto, the Price List API (not in moto) from Stubber with real
GetProducts shapes (PriceList items are JSON strings)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from typer.testing import CliRunner

from advisor.catalog import load_catalog
from advisor.catalog.refresh import refresh_catalog
from advisor.cli.main import app
from advisor.store.paths import user_catalog_dir


def _product(family: str, attributes: dict[str, str], usd: str, unit: str, sku: str) -> str:
    term = f"{sku}.JRTCKXETXF"
    return json.dumps({
        "product": {"productFamily": family, "attributes": attributes, "sku": sku},
        "serviceCode": attributes.get("servicecode", "AmazonEC2"),
        "terms": {"OnDemand": {term: {"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate":
                                      "2026-10-01T00:00:00Z", "termAttributes": {}, "priceDimensions": {
            f"{term}.6YS6EN2CT7": {"unit": unit, "endRange": "Inf", "beginRange": "0", "appliesTo": [],
                                   "rateCode": f"{term}.6YS6EN2CT7", "description": f"{usd} per {unit}",
                                   "pricePerUnit": {"USD": usd}}}}}},
        "version": "20261001000000", "publicationDate": "2026-10-01T00:00:00Z",
    })


def _ec2(instance_type: str, usd: str) -> str:
    return _product("Compute Instance", {
        "instanceType": instance_type, "regionCode": "us-east-1", "location": "US East (N. Virginia)",
        "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
        "licenseModel": "No License required", "servicecode": "AmazonEC2", "usagetype": f"BoxUsage:{instance_type}",
        "operation": "RunInstances"}, usd, "Hrs", f"SKU{instance_type.replace('.', '')}")


def _pricing_stub() -> tuple[object, Stubber]:
    pricing = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y",
                           endpoint_url="https://api.pricing.us-east-1.amazonaws.com")
    stub = Stubber(pricing)
    params = {"ServiceCode": "AmazonEC2", "Filters": ANY, "FormatVersion": "aws_v1"}
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
        _ec2("m5.xlarge", "0.2000000000"), _ec2("c5.xlarge", "0.1750000000")], "NextToken": "page2"}, params)
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [_ec2("g5.xlarge", "1.0100000000")]},
                      {**params, "NextToken": "page2"})
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
        _product("ML Instance", {"instanceName": "ml.m5.xlarge", "regionCode": "us-east-1", "component": "Hosting",
                                 "servicecode": "AmazonSageMaker"}, "0.2400000000", "Hrs", "SKUSM1"),
        _product("ML Instance", {"instanceName": "ml.m5.xlarge", "regionCode": "us-east-1",
                                 "component": "Training", "servicecode": "AmazonSageMaker"}, "0.2300000000", "Hrs",
                 "SKUSM2"),
    ]}, {**params, "ServiceCode": "AmazonSageMaker"})
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
        _product("Storage", {"volumeApiName": "gp3", "regionCode": "us-east-1", "usagetype": "EBS:VolumeUsage.gp3"},
                 "0.0800000000", "GB-Mo", "SKUGP3")]}, params)
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
        _product("System Operation", {"volumeApiName": "gp3", "regionCode": "us-east-1", "group": "EBS IOPS",
                                      "usagetype": "EBS:VolumeP-IOPS.gp3"}, "0.0050000000", "IOPS-Mo", "SKUIOPS"),
        _product("System Operation", {"volumeApiName": "io2", "regionCode": "us-east-1", "group": "EBS IOPS",
                                      "usagetype": "EBS:VolumeP-IOPS.io2.tier2"}, "0.0455000000", "IOPS-Mo", "SKUT2"),
    ]}, params)
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
        _product("Provisioned Throughput", {"volumeApiName": "gp3", "regionCode": "us-east-1",
                                            "usagetype": "EBS:VolumeP-Throughput.gp3"}, "40.9600000000", "GiBps-mo",
                 "SKUTHR")]}, params)
    return pricing, stub


def test_refresh_writes_a_dated_local_catalog_that_is_preferred(aws: str) -> None:
    bundled = load_catalog()
    assert bundled.info()["in_use"] == "bundled"
    pricing, stub = _pricing_stub()
    session = boto3.Session()
    with stub:
        path = refresh_catalog(lambda region: session.client("ec2", region_name=region), pricing, ["us-east-1"],
                               user_catalog_dir())
    stub.assert_no_pending_responses()
    assert path == user_catalog_dir() and (path / "catalog.json").is_file()
    local = load_catalog()
    info = local.info()
    assert info["in_use"] == "local (advisor catalog refresh)" and info["price_list_date"] != bundled.price_list_date
    assert local.hourly_price("m5.xlarge", "us-east-1") == pytest.approx(0.20)
    assert local.hourly_price("g5.xlarge", "us-east-1") == pytest.approx(1.01)  # second page
    assert local.hourly_price("m5.xlarge", "eu-west-1") == bundled.hourly_price("m5.xlarge", "eu-west-1")  # kept
    assert local.hourly_price("m6i.xlarge", "us-east-1") is None  # not priced by the refresh: not offered
    # other platforms keep the previous catalog's premium over Linux, on the refreshed Linux price
    windows = bundled.hourly_price("m5.xlarge", "us-east-1", "Windows") - bundled.hourly_price("m5.xlarge", "us-east-1")
    assert local.hourly_price("m5.xlarge", "us-east-1", "Windows") == pytest.approx(0.20 + windows)
    assert local.sagemaker_hourly("ml.m5.xlarge", "us-east-1") == (pytest.approx(0.24), False)  # hosting only
    gp3 = local.ebs[(local.ebs["volume_type"] == "gp3") & (local.ebs["region"] == "us-east-1")].iloc[0]
    assert (gp3["per_gib_month"], gp3["per_iops_month"], gp3["per_mibps_month"]) == pytest.approx((0.08, 0.005,
                                                                                                   0.04))
    row = local.prices[(local.prices["instance_type"] == "m5.xlarge") & (local.prices["region"] == "us-east-1")]
    savings = bundled.spot_savings("m5.xlarge", "us-east-1")  # one Spot figure: the Spot Instance Advisor's
    assert local.spot_savings("m5.xlarge", "us-east-1") == savings
    assert float(row["spot_hourly"].iloc[0]) == pytest.approx(0.20 * (1 - savings / 100))
    # each figure keeps its own source's date: the refresh dates on-demand prices, Spot keeps the feed's date
    assert local.price_dates(["ec2_ondemand", "spot"]) == {"aws_price_list_api": local.price_list_date,
                                                           "spot_advisor": "2025-06-28"}
    assert local.spec("m5.xlarge")["vcpus"] == 4 and local.spec("m5.xlarge")["memory_gib"] == 16
    metadata = json.loads((path / "catalog.json").read_text())
    assert metadata["regions_refreshed"] == ["us-east-1"] and metadata["built_by"] == "advisor catalog refresh"

    result = CliRunner().invoke(app, ["catalog", "info"])
    assert result.exit_code == 0 and "local (advisor catalog refresh)" in result.stdout


def test_refresh_failure_leaves_the_catalog_in_use(aws: str) -> None:
    pricing = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y",
                           endpoint_url="https://api.pricing.us-east-1.amazonaws.com")
    with Stubber(pricing) as stub:
        stub.add_client_error("get_products", "AccessDeniedException", "not authorized to perform pricing:GetProducts")
        with pytest.raises(ClientError, match="AccessDenied"):
            refresh_catalog(lambda region: boto3.client("ec2", region_name=region), pricing, ["us-east-1"],
                            user_catalog_dir())
    assert not user_catalog_dir().exists() and load_catalog().info()["in_use"] == "bundled"
    assert not list(user_catalog_dir().parent.glob(".catalog-*"))  # no staging directory left behind
