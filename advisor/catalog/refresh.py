"""``advisor catalog refresh``: rebuild the user's local catalog from AWS APIs, dated, beside the store.

Sources, per refreshed region: the Price List API (``pricing`` GetProducts) for EC2 Linux shared-tenancy
on-demand, SageMaker real-time hosting and EBS prices; EC2 DescribeInstanceTypes (specs),
DescribeInstanceTypeOfferings (what the region offers). Everything else is carried over from the catalog in use,
with its sources and their dates: the regions not refreshed, the Spot Instance Advisor's savings and bands (not an
AWS API; the catalog's one Spot figure, so the Spot price is the new on-demand price less those savings), other
platforms' premiums over Linux and Elastic Inference prices. The result has the bundled catalog's file layout and
replaces the previous local catalog atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from advisor.catalog.catalog import (
    PLATFORM_FILE,
    PRICE_COLUMNS,
    TYPE_COLUMNS,
    Catalog,
    load_catalog,
    sagemaker_price_class,
)

PRICING_REGION = "us-east-1"  # the Price List API is served from us-east-1 (also eu-central-1, ap-south-1)
EC2_FILTERS = {"productFamily": "Compute Instance", "operatingSystem": "Linux", "tenancy": "Shared",
               "preInstalledSw": "NA", "capacitystatus": "Used"}
DESCRIBE_BATCH = 100  # DescribeInstanceTypes takes at most 100 names

Clients = Callable[[str], Any]  # region -> EC2 client


def _filters(region: str, fields: dict[str, str]) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in {"regionCode": region, **fields}.items()]


def _products(pricing: Any, service: str, filters: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
    for page in pricing.get_paginator("get_products").paginate(ServiceCode=service, Filters=filters,
                                                                FormatVersion="aws_v1"):
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item


def _on_demand(product: dict[str, Any]) -> tuple[float, str] | None:
    """The first positive USD on-demand rate and its unit."""
    for offer in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in offer.get("priceDimensions", {}).values():
            usd = float(dimension.get("pricePerUnit", {}).get("USD", 0) or 0)
            if usd > 0:
                return usd, dimension.get("unit", "")
    return None


def ec2_prices(pricing: Any, region: str) -> dict[str, float]:
    """Linux shared-tenancy on-demand USD/hour per instance type."""
    prices: dict[str, float] = {}
    for product in _products(pricing, "AmazonEC2", _filters(region, EC2_FILTERS)):
        attributes = product.get("product", {}).get("attributes", {})
        if attributes.get("licenseModel", "No License required") != "No License required":
            continue
        rate = _on_demand(product)
        name = attributes.get("instanceType")
        if name and rate and rate[1].lower().startswith("hr"):
            prices[name] = min(rate[0], prices.get(name, rate[0]))
    return prices


def sagemaker_prices(pricing: Any, region: str) -> dict[str, float]:
    """SageMaker real-time hosting USD/hour per ``ml.`` instance type."""
    prices: dict[str, float] = {}
    for product in _products(pricing, "AmazonSageMaker", _filters(region, {"productFamily": "ML Instance"})):
        attributes = product.get("product", {}).get("attributes", {})
        usage = (attributes.get("component") or attributes.get("platoinstancetype") or "").lower()
        name = attributes.get("instanceName") or attributes.get("instanceType")
        rate = _on_demand(product)
        if usage == "hosting" and name and name.startswith("ml.") and rate:
            prices[name] = min(rate[0], prices.get(name, rate[0]))
    return prices


def ebs_prices(pricing: Any, region: str) -> dict[str, dict[str, float]]:
    """Per volume type: ``per_gib_month``, ``per_iops_month`` (first tier), ``per_mibps_month``."""
    out: dict[str, dict[str, float]] = {}
    families = {"Storage": "per_gib_month", "System Operation": "per_iops_month",
                "Provisioned Throughput": "per_mibps_month"}
    for family, column in families.items():
        for product in _products(pricing, "AmazonEC2", _filters(region, {"productFamily": family})):
            attributes = product.get("product", {}).get("attributes", {})
            volume = attributes.get("volumeApiName")
            rate = _on_demand(product)
            usage = attributes.get("usagetype", "").lower()
            if not volume or not rate or "tier" in usage:
                continue
            usd, unit = rate
            if unit.lower().startswith("gibps"):
                usd /= 1024.0  # per GiB/s-month -> per MiB/s-month
            out.setdefault(volume, {})[column] = usd
    return out


def offered_types(ec2: Any, region: str) -> set[str]:
    paginator = ec2.get_paginator("describe_instance_type_offerings")
    pages = paginator.paginate(LocationType="region", Filters=[{"Name": "location", "Values": [region]}])
    return {o["InstanceType"] for page in pages for o in page.get("InstanceTypeOfferings", [])}


def describe_types(ec2: Any, names: list[str] | None = None) -> list[dict[str, Any]]:
    """DescribeInstanceTypes records: every type of the region, or just ``names`` (in batches of 100)."""
    paginator = ec2.get_paginator("describe_instance_types")
    if names is None:
        return [t for page in paginator.paginate() for t in page.get("InstanceTypes", [])]
    records: list[dict[str, Any]] = []
    for i in range(0, len(names), DESCRIBE_BATCH):
        pages = paginator.paginate(InstanceTypes=names[i:i + DESCRIBE_BATCH])
        records.extend(t for page in pages for t in page.get("InstanceTypes", []))
    return records


def spec_row(record: dict[str, Any], known: pd.DataFrame) -> dict[str, Any]:
    """A DescribeInstanceTypes record as a ``TYPE_COLUMNS`` row (processor name and GPU share from ``known``)."""
    name = record["InstanceType"]
    family, _, size = name.partition(".")
    gpus = record.get("GpuInfo", {})
    gpu_list = gpus.get("Gpus", [])
    accelerators = (record.get("InferenceAcceleratorInfo", {}).get("Accelerators")
                    or record.get("NeuronInfo", {}).get("NeuronDevices") or [])
    processor = record.get("ProcessorInfo", {})
    cards = record.get("NetworkInfo", {}).get("NetworkCards", [])
    ebs = record.get("EbsInfo", {}).get("EbsOptimizedInfo", {})
    gpu_count = sum(int(g.get("Count", 0)) for g in gpu_list)
    previous = known.loc[name] if name in known.index else None
    manufacturer = processor.get("Manufacturer", "")
    return {
        "instance_type": name, "family": family, "size": size,
        "generation": "current" if record.get("CurrentGeneration") else "previous",
        "vcpus": int(record.get("VCpuInfo", {}).get("DefaultVCpus", 0)),
        "memory_gib": record.get("MemoryInfo", {}).get("SizeInMiB", 0) / 1024.0,
        "gpus": gpu_count,
        "gpu_share": float(previous["gpu_share"]) if previous is not None else float(gpu_count),
        "gpu_model": gpu_list[0].get("Name") if gpu_list else None,
        "gpu_manufacturer": gpu_list[0].get("Manufacturer") if gpu_list else None,
        "gpu_memory_gib": gpus.get("TotalGpuMemoryInMiB", 0) / 1024.0,
        "accelerator": accelerators[0].get("Name") if accelerators else None,
        "accelerator_count": sum(int(a.get("Count", 0)) for a in accelerators),
        "accelerator_memory_gib": sum(a.get("MemoryInfo", {}).get("SizeInMiB", 0) * int(a.get("Count", 0))
                                      for a in accelerators) / 1024.0,
        "arch": "arm64" if "arm64" in processor.get("SupportedArchitectures", []) else "x86_64",
        "processor": (str(previous["processor"]) if previous is not None
                      else "AWS Graviton Processor" if manufacturer == "AWS" else f"{manufacturer} processor".strip()),
        "burstable": bool(record.get("BurstablePerformanceSupported")), "bare_metal": bool(record.get("BareMetal")),
        "network_gbps": sum(float(c.get("BaselineBandwidthInGbps", 0)) for c in cards) or None,
        "ebs_baseline_mbps": ebs.get("BaselineThroughputInMBps"), "ebs_max_iops": ebs.get("MaximumIops"),
    }


def _types_frame(base: Catalog, records: list[dict[str, Any]]) -> pd.DataFrame:
    known = base.types
    fresh = pd.DataFrame([spec_row(r, known) for r in records], columns=list(TYPE_COLUMNS)).set_index(
        "instance_type")
    kept = known.loc[~known.index.isin(fresh.index)]
    plain = {c: (object if isinstance(t, pd.CategoricalDtype) else t) for c, t in known.dtypes.items()}
    merged = pd.concat([kept.astype(plain), fresh.astype(plain, errors="ignore")])
    return merged.reset_index().rename(columns={"index": "instance_type"}).sort_values("instance_type")


def _price_rows(base: Catalog, region: str, ondemand: dict[str, float], offered: set[str]) -> pd.DataFrame:
    bands = base.prices[base.prices["region"] == region].set_index("instance_type")
    rows = []
    for name in sorted(offered & set(ondemand)):
        band = bands.loc[name] if name in bands.index else None
        savings = None if band is None or pd.isna(band["spot_savings_pct"]) else float(band["spot_savings_pct"])
        rows.append({"instance_type": name, "region": region, "ondemand_hourly": ondemand[name],
                     "spot_hourly": None if savings is None else round(ondemand[name] * (1 - savings / 100), 6),
                     "spot_savings_pct": savings,
                     "interruption_band": band["interruption_band"] if band is not None else None})
    return pd.DataFrame(rows, columns=list(PRICE_COLUMNS))


def _sagemaker_rows(region: str, prices: dict[str, float], today: str) -> pd.DataFrame:
    return pd.DataFrame([{"instance_type": name, "region": region, "hourly": hourly,
                          "source": f"AWS Price List API ({today})", "estimated": False, "note": None}
                         for name, hourly in sorted(prices.items())],
                        columns=["instance_type", "region", "hourly", "source", "estimated", "note"])


def _ebs_rows(base: Catalog, region: str, prices: dict[str, dict[str, float]], today: str) -> pd.DataFrame:
    """Refreshed per-GiB, per-IOPS and per-MiB/s rates over the carried-over limits of each volume type."""
    reference = base.ebs.drop_duplicates("volume_type").set_index("volume_type")
    rows = []
    for volume, rates in sorted(prices.items()):
        if volume not in reference.index or "per_gib_month" not in rates:
            continue
        row = reference.loc[volume].to_dict() | rates
        rows.append(row | {"volume_type": volume, "region": region, "estimated": False,
                           "source": f"AWS Price List API ({today}); limits and tiers from the previous catalog"})
    return pd.DataFrame(rows, columns=list(base.ebs.columns))


def _replace(old: pd.DataFrame, new: pd.DataFrame, regions: list[str]) -> pd.DataFrame:
    """``old`` without the refreshed regions' rows, plus ``new`` (a region that priced nothing keeps its rows)."""
    refreshed = set(new["region"])
    kept = old[~old["region"].astype(str).isin([r for r in regions if r in refreshed])]
    kept = kept.astype({c: str for c in ("region", "instance_type") if c in kept.columns})
    return pd.concat([kept, new], ignore_index=True)


def _markups(types: pd.DataFrame, prices: pd.DataFrame, sagemaker: pd.DataFrame,
             previous: dict[str, float]) -> dict[str, float]:
    """SageMaker / EC2 price ratio per family class, from the types priced by both (else the previous one)."""
    ec2 = {(t, r): p for t, r, p in zip(prices["instance_type"], prices["region"], prices["ondemand_hourly"],
                                        strict=True)}
    ratios: dict[str, list[float]] = {}
    for name, region, hourly, estimated in zip(sagemaker["instance_type"], sagemaker["region"], sagemaker["hourly"],
                                               sagemaker["estimated"], strict=True):
        plain = str(name).removeprefix("ml.")
        if bool(estimated) or plain not in types.index or (plain, region) not in ec2:
            continue
        price_class = sagemaker_price_class(types.loc[[plain]].iloc[0])
        ratios.setdefault(price_class, []).append(float(hourly) / ec2[(plain, region)])
    return previous | {k: round(statistics.median(v), 4) for k, v in ratios.items()}


def refresh_catalog(ec2_for: Clients, pricing: Any, regions: list[str], dest: Path,
                    base: Catalog | None = None) -> Path:
    """Build the catalog for ``regions`` over ``base`` (default: the catalog in use) and write it to ``dest``."""
    base = base or load_catalog()
    now = datetime.now(UTC)
    today = now.date().isoformat()
    prices, sagemaker, ebs, offerings = [], [], [], {}
    for region in regions:  # prices first: the Price List API is the call most likely to be denied
        ec2 = ec2_for(region)
        offerings[region] = offered_types(ec2, region)
        prices.append(_price_rows(base, region, ec2_prices(pricing, region), offerings[region]))
        sagemaker.append(_sagemaker_rows(region, sagemaker_prices(pricing, region), today))
        ebs.append(_ebs_rows(base, region, ebs_prices(pricing, region), today))
    records = describe_types(ec2_for(regions[0]))
    seen = {r["InstanceType"] for r in records}
    for region in regions[1:]:
        missing = sorted(offerings[region] - seen)
        if missing:
            records.extend(describe_types(ec2_for(region), missing))
            seen.update(missing)
    types = _types_frame(base, records)
    new_prices = _replace(base.prices, pd.concat(prices, ignore_index=True), regions)
    new_sagemaker = _replace(base.sagemaker, pd.concat(sagemaker, ignore_index=True), regions)
    new_ebs = _replace(base.ebs, pd.concat(ebs, ignore_index=True), regions)
    markups = _markups(types.set_index("instance_type"), new_prices, new_sagemaker,
                       base.metadata.get("sagemaker_markups", {}))
    metadata = {
        "schema": base.metadata.get("schema", 1), "price_list_date": today,
        "built_at": now.isoformat(timespec="seconds"),
        "built_by": "advisor catalog refresh", "regions_refreshed": regions,
        "sources": [
            {"name": "aws_price_list_api", "what": "EC2 Linux shared-tenancy on-demand, SageMaker hosting and EBS "
             f"prices for {', '.join(regions)}", "date": today, "prices": ["ec2_ondemand", "sagemaker", "ebs"]},
            {"name": "ec2_api", "what": "DescribeInstanceTypes, DescribeInstanceTypeOfferings", "date": today},
            {"name": "previous_catalog", "what": "regions not refreshed, EBS limits", "date": base.price_list_date,
             "path": str(base.path) if base.path else None},
            *_carried_sources(base),
        ],
        "sagemaker_markups": markups,
    }
    return _write(dest, types, new_prices, new_sagemaker, new_ebs, metadata, base.platforms)


def _carried_sources(base: Catalog) -> list[dict[str, Any]]:
    """The previous catalog's sources of the figures a refresh does not fetch, with their own dates."""
    fetched = {"ec2_ondemand", "sagemaker", "ebs"}
    return [{**source, "prices": [f for f in source["prices"] if f not in fetched]} for source in base.sources
            if set(source.get("prices") or []) - fetched]


def _write(dest: Path, types: pd.DataFrame, prices: pd.DataFrame, sagemaker: pd.DataFrame, ebs: pd.DataFrame,
           metadata: dict[str, Any], platforms: pd.DataFrame | None = None) -> Path:
    """Write into a sibling temporary directory, then swap it in: readers never see a half-written catalog."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".catalog-", dir=dest.parent))
    try:
        types.to_parquet(staging / "instance_types.parquet", index=False)
        prices.to_parquet(staging / "prices.parquet", index=False)
        if platforms is not None and len(platforms):
            platforms.to_parquet(staging / PLATFORM_FILE, index=False)
        sagemaker.to_csv(staging / "sagemaker_prices.csv", index=False)
        ebs.to_csv(staging / "ebs_prices.csv", index=False)
        (staging / "catalog.json").write_text(json.dumps(metadata, indent=2, default=str) + "\n", encoding="utf-8")
        if dest.exists():
            old = dest.with_name(f".{dest.name}-old-{os.getpid()}")
            dest.rename(old)
            staging.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest
