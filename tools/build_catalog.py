#!/usr/bin/env python3
"""Build the bundled offline catalog in advisor/data/catalog/ from the third-party snapshots in shared/.

    python tools/build_catalog.py [--shared ../shared]

Inputs (shared/data/catalog, described in shared/data/README.md §3):

* vantage parquet (or its Linux-only csv.gz): Linux on-demand prices per type × region, plus specs, and (parquet
  only) the other platforms' on-demand prices, stored as their premium over Linux in platform_prices.parquet.
  Its date is the price-list date of the catalog.
* moto 5.2.5 ``instance_types.json.gz``: AWS DescribeInstanceTypes records (GPU/accelerator models, arch,
  burstable, network and EBS baselines). Specs come from here first, from vantage for the few types moto lacks.
* Spot Instance Advisor feed: savings % ('s') and interruption band ('r') per region × type (Linux): the catalog's
  only Spot figure (vantage's Spot averages are not used).

Writes instance_types.parquet, prices.parquet, platform_prices.parquet, sagemaker_prices.csv and catalog.json;
ebs_prices.csv is hand-written and only validated here. Local Zone and Wavelength locations (``us-east-1-bos-1``...)
are left out: they are not regions, and an instance there reports its parent region anyway.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.catalog.catalog import (  # noqa: E402
    PLATFORM_FILE,
    PLATFORMS,
    PRICE_COLUMNS,
    REFERENCE_REGION,
    REGION_BASKET,
    TYPE_COLUMNS,
    Catalog,
    mark_retired,
    sagemaker_price_class,
)
from advisor.fsutil import atomic_write_bytes, atomic_write_text  # noqa: E402

OUT = ROOT / "advisor" / "data" / "catalog"
VANTAGE_PARQUET = "ec2_pricing_tidy_vantage_2026.parquet"
VANTAGE_CSV = "ec2_linux_prices_specs_vantage_2026.csv.gz"
MOTO_TYPES = "moto_5.2.5/instance_types.json.gz"
SPOT_ADVISOR = "spot-advisor-data_2025-06-28.json.gz"
REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d+$")

PRICE_LIST_DATE = "2026-07-05"
SOURCES: dict[str, dict[str, Any]] = {
    "vantage": {
        "name": "vantage",
        "what": "EC2 on-demand prices per type and region (Linux, and each other platform's premium over Linux: "
                "RHEL, SUSE, Ubuntu Pro, Windows, SQL Server); fallback specs",
        "repo": "jawaadjariwala/AWS-EC2-Pricing-Landscape-Analysis",
        "commit": "b7dbceba0649cdc693d50de8a96e696b281e847a",
        "file_commit": "cbe0a516e46dee177791ba3a7c21d681aa5b2e9a",
        "path": "data/ec2_pricing_tidy.parquet",
        "license": "none stated (built from instances.vantage.sh / ec2instances.info, MIT)",
        "date": PRICE_LIST_DATE,
        "date_note": "date the snapshot file was committed; prices current as of about mid-2026",
        "prices": ["ec2_ondemand", "platform"],
    },
    "moto": {
        "name": "moto",
        "what": "EC2 DescribeInstanceTypes records: vCPU, memory, GPU/accelerator models, arch, network, EBS",
        "repo": "getmoto/moto (PyPI wheel moto-5.2.5-py3-none-any.whl)",
        "commit": None,
        "path": "moto/ec2/resources/instance_types.json.gz",
        "license": "Apache-2.0",
        "date": "2026-10-27",
        "date_note": "build time recorded in the 5.2.5 wheel",
    },
    "spot_advisor": {
        "name": "spot_advisor",
        "what": "AWS Spot Instance Advisor feed: savings % and interruption band per region and type (Linux); the "
                "catalog's only Spot figure (spot_hourly is on-demand x (1 - its savings %))",
        "repo": "alexei-led/spotinfo",
        "commit": "05e933139449b888c78795b28af8e9370429a031",
        "file_commit": "5eedf20a99614443af215f4aaf09bd10805cac72",
        "path": "internal/spot/data/spot-advisor-data.json",
        "license": "Apache-2.0",
        "date": "2025-06-28",
        "prices": ["spot"],
    },
    "aws_accelerator_docs": {
        "name": "aws_accelerator_docs",
        "what": "GPU/accelerator models of the retired families moto no longer lists (p2, p3, g2, g3, g3s, g4ad, "
                "dl1, f1); counts and GPU memory still come from vantage",
        "repo": None,
        "commit": None,
        "path": "https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html",
        "license": "AWS documentation (facts only)",
        "date": None,
        "date_note": "static hardware facts, hand-entered in tools/build_catalog.py",
    },
    "ebs": {
        "name": "ebs",
        "what": "EBS volume prices and limits, us-east-1 (other regions scaled by the region price ratio)",
        "repo": None,
        "commit": None,
        "path": "advisor/data/catalog/ebs_prices.csv (hand-written; https://aws.amazon.com/ebs/pricing/)",
        "license": "AWS public pricing (facts only)",
        "date": "2026",
        "date_note": "figures as of 2026 per DESIGN.md §5",
        "prices": ["ebs"],
    },
    "sagemaker": {
        "name": "sagemaker",
        "what": "SageMaker real-time hosting prices: three sourced us-east-1 values, the rest estimated from "
                "EC2 prices × the markup observed per family class",
        "repo": None,
        "commit": None,
        "path": "advisor/data/catalog/sagemaker_prices.csv (generated; https://aws.amazon.com/sagemaker/pricing/)",
        "license": "AWS public pricing (facts only)",
        "date": "2026",
        "date_note": "sourced values as of 2026 per DESIGN.md §5",
        "prices": ["sagemaker"],
    },
    "elastic_inference": {
        "name": "elastic_inference",
        "what": "Elastic Inference accelerator hourly prices (ml.eia2.*); region and date not stated upstream",
        "repo": "aws-samples/easy-amazon-sagemaker-deployments",
        "commit": "a0f5b2260a935a7914e14cef9046b64ac8a4c8c2",
        "path": "ezsmdeploy/__init__.py (eicosts)",
        "license": "MIT-0 (aws-samples)",
        "date": None,
        "date_note": "service ended April 2024; values kept for migration advice only",
        "prices": ["elastic_inference"],
    },
}

# Accelerated families that moto 5.2.5 no longer describes (retired); models per AWS's documentation.
RETIRED_GPUS = {
    "p2": ("K80", "NVIDIA"),
    "p3": ("V100", "NVIDIA"),
    "g2": ("GRID K520", "NVIDIA"),
    "g3": ("M60", "NVIDIA"),
    "g3s": ("M60", "NVIDIA"),
    "g4ad": ("Radeon Pro V520", "AMD"),
}
# family -> (accelerator, memory GiB per device, devices per size)
RETIRED_ACCELERATORS = {
    "dl1": ("Gaudi HL-205", 32.0, {"24xlarge": 8}),
    "f1": ("Xilinx VU9P FPGA", 64.0, {"2xlarge": 1, "4xlarge": 2, "16xlarge": 8}),
}

# DESIGN.md §5, us-east-1 Linux on-demand USD/h: the build refuses to ship a catalog more than 2 % off.
REFERENCE_PRICES = {
    "m5.xlarge": 0.192, "c5.xlarge": 0.17, "g4dn.xlarge": 0.526, "g5.xlarge": 1.006, "g6.xlarge": 0.805,
    "p3.2xlarge": 3.06, "inf1.xlarge": 0.228, "inf2.xlarge": 0.758,
}
REFERENCE_TOLERANCE = 0.02

SAGEMAKER_REGIONS = ("us-east-1", "eu-west-1")
SAGEMAKER_TYPES = (
    "ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.c5.xlarge", "ml.c5.2xlarge",
    "ml.g4dn.xlarge", "ml.g4dn.2xlarge", "ml.g4dn.12xlarge", "ml.g5.xlarge", "ml.g5.2xlarge", "ml.g5.12xlarge",
    "ml.p3.2xlarge", "ml.p3.8xlarge", "ml.inf1.xlarge", "ml.inf2.xlarge", "ml.t3.medium",
)
SAGEMAKER_SOURCED = {  # DESIGN.md §5: SageMaker hosting, us-east-1, USD/h
    ("ml.m5.xlarge", "us-east-1"): 0.23,
    ("ml.g4dn.xlarge", "us-east-1"): 0.736,
    ("ml.p3.2xlarge", "us-east-1"): 3.825,
}
ELASTIC_INFERENCE = {"ml.eia2.medium": 0.12, "ml.eia2.large": 0.24, "ml.eia2.xlarge": 0.34}
EI_NOTE = ("Elastic Inference: no new customers after 2023-04-15, service ended April 2024; "
           "migrate to Inferentia (inf1/inf2) or a small GPU (g4dn.xlarge)")

EBS_COLUMNS = (
    "volume_type", "region", "per_gib_month", "per_iops_month", "per_iops_month_32k_64k",
    "per_iops_month_over_64k", "per_mibps_month", "included_iops", "included_mibps", "max_iops", "max_mibps",
    "source", "estimated",
)


def positive(value: Any) -> float:
    """The value as a float when it is a positive number, else NaN (vantage writes 0 for unknown)."""
    number = pd.to_numeric(value, errors="coerce")
    return float(number) if pd.notna(number) and number > 0 else float("nan")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_vantage(folder: Path) -> tuple[pd.DataFrame, Path]:
    """Linux rows of the vantage snapshot, from the parquet if present, else from its Linux-only csv.gz."""
    parquet = folder / VANTAGE_PARQUET
    if parquet.is_file():
        frame = pd.read_parquet(parquet, filters=[("operating_system", "==", "linux")])
        return frame.drop(columns=["operating_system"]), parquet
    csv = folder / VANTAGE_CSV
    return pd.read_csv(csv), csv


def build_platforms(folder: Path, prices: pd.DataFrame) -> pd.DataFrame:
    """Per type x region priced in ``prices``: the USD/hour each other platform (RHEL, SUSE, Windows, SQL Server...)
    costs above Linux, from the same vantage snapshot (its parquet; the Linux-only csv.gz has none). Stored as the
    premium over Linux, which is nearly constant along a family, so the table stays small."""
    parquet = folder / VANTAGE_PARQUET
    columns = ["instance_type", "region"]
    if not parquet.is_file():
        print(f"warning: {parquet.name} not found: no platform prices (only Linux/UNIX instances will be priced)",
              file=sys.stderr)
        return pd.DataFrame(columns=columns)
    frame = pd.read_parquet(parquet, columns=["instance_type", "region_code", "operating_system",
                                              "ondemand_usd_per_hour"])
    frame = frame[frame["operating_system"].isin(set(PLATFORMS.values()) - {"linux"})
                  & (frame["ondemand_usd_per_hour"] > 0)]
    wide = frame.pivot_table(index=["instance_type", "region_code"], columns="operating_system",
                             values="ondemand_usd_per_hour", aggfunc="first")
    wide.index = wide.index.set_names(columns)
    linux = prices.assign(instance_type=prices["instance_type"].astype(str), region=prices["region"].astype(str)
                          ).set_index(columns)["ondemand_hourly"]
    premiums = wide.reindex(linux.index).sub(linux, axis=0).round(6)
    premiums = premiums.dropna(how="all")
    premiums.columns = premiums.columns.astype(str)
    out = premiums.reset_index()
    for column in columns:
        out[column] = out[column].astype("category")
    return out


def load_spot_advisor(folder: Path) -> pd.DataFrame:
    feed = json.loads(gzip.decompress((folder / SPOT_ADVISOR).read_bytes()))
    rows = [
        (name, region, entry.get("s"), entry.get("r"))
        for region, systems in feed["spot_advisor"].items()
        for name, entry in systems.get("Linux", {}).items()
    ]
    return pd.DataFrame(rows, columns=["instance_type", "region", "advisor_savings", "advisor_band"])


def network_from_text(text: Any) -> float:
    """Baseline Gbit/s from vantage's text: '25 Gigabit' or '4x 100 Gigabit'; 'Up to ...'/'High' are unknown."""
    match = re.fullmatch(r"(?:(\d+)x )?(\d+(?:\.\d+)?) Gigabit", str(text))
    if not match:
        return float("nan")
    return float(match.group(2)) * int(match.group(1) or 1)


def arch_of(architectures: list[str]) -> str:
    """x86_64 when the type runs x86 at all (i386+x86_64, x86_64_mac), else arm64."""
    return "x86_64" if any("x86_64" in a for a in architectures) else "arm64"


def processor_of(manufacturer: str, arch: str) -> str:
    return "AWS Graviton" if manufacturer == "AWS" and arch == "arm64" else manufacturer


def moto_spec(record: dict[str, Any], vantage: pd.Series | None) -> dict[str, Any]:
    gpus = record.get("GpuInfo", {}).get("Gpus", [])
    accel_info = next(((record[key], record[key].get(sub, [])) for key, sub in (
        ("NeuronInfo", "NeuronDevices"), ("InferenceAcceleratorInfo", "Accelerators"),
        ("FpgaInfo", "Fpgas"), ("MediaAcceleratorInfo", "Accelerators")) if key in record), (None, []))
    devices = accel_info[1]
    accel_memory = sum(d.get("MemoryInfo", {}).get("SizeInMiB", 0) * d.get("Count", 1) for d in devices)
    cards = record["NetworkInfo"].get("NetworkCards", [])
    baseline = sum(c.get("BaselineBandwidthInGbps", 0.0) for c in cards)
    ebs = record.get("EbsInfo", {}).get("EbsOptimizedInfo", {})
    arch = arch_of(record["ProcessorInfo"]["SupportedArchitectures"])
    vantage_ebs = float("nan") if vantage is None else positive(vantage["ebs_baseline_throughput_mbps"])
    return {
        "vcpus": record["VCpuInfo"]["DefaultVCpus"],
        "memory_gib": record["MemoryInfo"]["SizeInMiB"] / 1024,
        "gpus": sum(g.get("LogicalGpuCount", g["Count"]) for g in gpus),
        "gpu_share": sum(g.get("LogicalGpuCount", g["Count"]) * g.get("GpuPartitionSize", 1.0) for g in gpus),
        "gpu_model": gpus[0]["Name"] if gpus else None,
        "gpu_manufacturer": gpus[0].get("Manufacturer") if gpus else None,
        "gpu_memory_gib": record.get("GpuInfo", {}).get("TotalGpuMemoryInMiB", 0) / 1024,
        "accelerator": devices[0]["Name"] if devices else None,
        "accelerator_count": sum(d.get("Count", 1) for d in devices),
        "accelerator_memory_gib": accel_memory / 1024,
        "arch": arch,
        "processor": (vantage["physical_processor"] if vantage is not None
                      else processor_of(record["ProcessorInfo"].get("Manufacturer", "unknown"), arch)),
        "burstable": bool(record.get("BurstablePerformanceSupported", False)),
        "bare_metal": bool(record.get("BareMetal", False)),
        "network_gbps": baseline if baseline > 0 else network_from_text(record["NetworkInfo"]["NetworkPerformance"]),
        "ebs_baseline_mbps": ebs.get("BaselineThroughputInMBps", vantage_ebs),
        "ebs_max_iops": ebs.get("MaximumIops", float("nan")),
    }


def vantage_spec(name: str, row: pd.Series) -> dict[str, Any]:
    family, size = name.split(".", 1)
    gpu_model, gpu_maker = RETIRED_GPUS.get(family, (None, None))
    accelerator, per_device, counts = RETIRED_ACCELERATORS.get(family, (None, 0.0, {}))
    gpus = float(row["gpu_count"]) if gpu_model else 0.0
    devices = counts.get(size, 0)
    processor = str(row["physical_processor"])
    return {
        "vcpus": int(row["vcpu_count"]),
        "memory_gib": float(row["memory_gib"]),
        "gpus": int(round(gpus)),
        "gpu_share": gpus,
        "gpu_model": gpu_model,
        "gpu_manufacturer": gpu_maker,
        "gpu_memory_gib": float(row["gpu_memory_gib"]) if gpu_model else 0.0,
        "accelerator": accelerator,
        "accelerator_count": devices,
        "accelerator_memory_gib": devices * per_device,
        "arch": "arm64" if "Graviton" in processor else "x86_64",
        "processor": processor,
        "burstable": bool(re.match(r"t\d", family)),
        "bare_metal": bool(row["is_bare_metal"]),
        "network_gbps": network_from_text(row["network_performance_text"]),
        "ebs_baseline_mbps": positive(row["ebs_baseline_throughput_mbps"]),
        "ebs_max_iops": float("nan"),
    }


def generation_group(family: str) -> str | None:
    """'m4' for m4, 'm5' for m5/m5d/m5zn...: the letters and first digit of a family."""
    match = re.match(r"([a-z]+\d)", family)
    return match.group(1) if match else None


def build_types(vantage: pd.DataFrame, moto: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per EC2 type known to either source.

    Generation: previous when vantage (the AWS price list's currentGeneration) says so, or when moto's
    DescribeInstanceTypes flag is false for *every* family of that generation group (m4, c4, r4). moto marks
    m5 but not m5d, r7g but not r7i previous; such split flags are not taken. The retired GPU families that both
    sources still call current (``RETIRED_GPU_FAMILIES``: P2, P3, G3) are marked previous.
    """
    specs = vantage.drop_duplicates("instance_type").set_index("instance_type")
    groups: dict[str, list[bool]] = {}
    for name, record in moto.items():
        group = generation_group(name.split(".", 1)[0])
        if group:
            groups.setdefault(group, []).append(bool(record.get("CurrentGeneration", True)))
    retired_groups = {g for g, flags in groups.items() if not any(flags)}
    rows = []
    for name in sorted(set(specs.index) | set(moto)):
        row = specs.loc[name] if name in specs.index else None
        record = moto.get(name)
        spec = moto_spec(record, row) if record else vantage_spec(name, row)
        family, size = name.split(".", 1)
        previous = (row is not None and row["generation_label"] == "previous") or (
            record is not None and not record.get("CurrentGeneration", True)
            and generation_group(family) in retired_groups)
        rows.append({"instance_type": name, "family": family, "size": size,
                     "generation": "previous" if previous else "current", **spec})
    types = pd.DataFrame(rows, columns=list(TYPE_COLUMNS))
    for column in ("vcpus", "gpus", "accelerator_count"):
        types[column] = types[column].astype("int16")
    for column in ("memory_gib", "gpu_share", "gpu_memory_gib", "accelerator_memory_gib", "network_gbps",
                   "ebs_baseline_mbps", "ebs_max_iops"):
        types[column] = types[column].astype("float32")
    for column in ("family", "size", "generation", "gpu_model", "gpu_manufacturer", "accelerator", "arch",
                   "processor"):
        types[column] = types[column].astype("category")
    return mark_retired(types)


def build_prices(vantage: pd.DataFrame, advisor: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Linux on-demand rows per type × region, with the Spot Instance Advisor's savings and interruption band."""
    frame = vantage.rename(columns={"region_code": "region", "ondemand_usd_per_hour": "ondemand_hourly"})
    regional = frame["region"].str.match(REGION_RE.pattern)
    positive = frame["ondemand_hourly"] > 0
    dropped = {"local_zone_rows": int((~regional).sum()), "zero_price_rows": int((regional & ~positive).sum())}
    frame = frame[regional & positive].copy()
    frame = frame.merge(advisor, on=["instance_type", "region"], how="left")
    # One Spot figure, from one dated source: the Spot Instance Advisor's savings % (with its interruption band).
    # vantage's own Spot averages disagree with it by more than 10 points in a third of the rows; they are not used,
    # and a type the feed does not cover has no Spot figure.
    frame["spot_savings_pct"] = frame["advisor_savings"].round().astype("Int8")
    frame["spot_hourly"] = (frame["ondemand_hourly"] * (1 - frame["spot_savings_pct"].astype(float) / 100)).round(6)
    frame["interruption_band"] = frame["advisor_band"].astype("Int8")
    prices = frame.loc[:, list(PRICE_COLUMNS)].sort_values(["instance_type", "region"]).reset_index(drop=True)
    prices["instance_type"] = prices["instance_type"].astype("category")
    prices["region"] = prices["region"].astype("category")
    return prices, dropped


def sagemaker_markups(catalog: Catalog) -> tuple[dict[str, float], dict[str, Any]]:
    """Markup per family class from the sourced SageMaker prices; 'default' = their median, for the rest."""
    observed: dict[str, list[tuple[str, float]]] = {}
    for (name, region), hourly in SAGEMAKER_SOURCED.items():
        spec = catalog.spec(name)
        ec2 = catalog.hourly_price(name.removeprefix("ml."), region)
        if spec is None or ec2 is None:
            raise SystemExit(f"sourced SageMaker type {name} has no EC2 price in {region}")
        observed.setdefault(sagemaker_price_class(spec), []).append((name, hourly / ec2))
    markups = {cls: round(statistics.mean(m for _, m in pairs), 4) for cls, pairs in observed.items()}
    markups["default"] = round(statistics.median(m for pairs in observed.values() for _, m in pairs), 4)
    basis = {cls: [f"{name} {m:.4f}" for name, m in pairs] for cls, pairs in observed.items()}
    basis["default"] = ["median of all observed markups (classes with no sourced type, e.g. accelerator)"]
    return markups, basis


def build_sagemaker(catalog: Catalog) -> pd.DataFrame:
    rows = []
    for region in SAGEMAKER_REGIONS:
        ratio = catalog.region_ratio(region)
        for name in SAGEMAKER_TYPES:
            if (name, region) in SAGEMAKER_SOURCED:
                rows.append((name, region, SAGEMAKER_SOURCED[(name, region)],
                             "AWS SageMaker pricing via DESIGN.md §5 (2026)", False, None))
                continue
            spec = catalog.spec(name)
            ec2 = catalog.hourly_price(name.removeprefix("ml."), region)
            if spec is None or ec2 is None:
                raise SystemExit(f"{name}: no EC2 price in {region} to estimate from")
            cls = sagemaker_price_class(spec)
            markup = catalog.sagemaker_markup(cls)
            rows.append((name, region, round(ec2 * markup, 4),
                         f"estimate: EC2 {name[3:]} {region} {ec2:g} x SageMaker markup {markup:g} ({cls})",
                         True, None))
        for name, hourly in ELASTIC_INFERENCE.items():
            upstream = "aws-samples/easy-amazon-sagemaker-deployments ezsmdeploy eicosts (region not stated)"
            if region == REFERENCE_REGION:
                rows.append((name, region, hourly, upstream, True, EI_NOTE))
            elif ratio is not None:
                rows.append((name, region, round(hourly * ratio, 4),
                             f"estimate: {upstream} {hourly:g} x region ratio {ratio:.4f}", True, EI_NOTE))
    return pd.DataFrame(rows, columns=["instance_type", "region", "hourly", "source", "estimated", "note"])


def check_ebs(path: Path) -> pd.DataFrame:
    ebs = pd.read_csv(path)
    if tuple(ebs.columns) != EBS_COLUMNS:
        raise SystemExit(f"{path}: columns must be {', '.join(EBS_COLUMNS)}")
    if not (ebs["region"] == REFERENCE_REGION).any():
        raise SystemExit(f"{path}: needs {REFERENCE_REGION} rows to scale other regions from")
    return ebs


def compare_reference(catalog: Catalog) -> list[str]:
    """Print DESIGN §5's reference prices beside the catalog's; return the types off by more than 2 %."""
    print(f"Reference prices, {REFERENCE_REGION} Linux on-demand USD/h (DESIGN §5 vs catalog {PRICE_LIST_DATE}):")
    print(f"  {'type':<14}{'DESIGN':>9}{'catalog':>10}{'diff':>9}")
    off = []
    for name, expected in REFERENCE_PRICES.items():
        actual = catalog.hourly_price(name, REFERENCE_REGION)
        diff = float("nan") if actual is None else (actual - expected) / expected
        shown = "missing" if actual is None else f"{actual:.4f}"
        print(f"  {name:<14}{expected:>9.3f}{shown:>10}{diff:>+9.2%}")
        if actual is None or abs(diff) > REFERENCE_TOLERANCE:
            off.append(name)
    return off


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", compression="zstd", index=False)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                        help="the shared/ folder holding data/catalog (default: ../shared)")
    args = parser.parse_args(argv)
    folder = args.shared / "data" / "catalog"
    if not folder.is_dir():
        parser.error(f"{folder} not found; pass --shared")

    vantage, vantage_file = load_vantage(folder)
    moto = json.loads(gzip.decompress((folder / MOTO_TYPES).read_bytes()))
    types = build_types(vantage, moto)
    prices, dropped = build_prices(vantage, load_spot_advisor(folder))
    platforms = build_platforms(folder, prices)
    ebs = check_ebs(OUT / "ebs_prices.csv")

    empty_sagemaker = pd.DataFrame(columns=["instance_type", "region", "hourly", "estimated"])
    catalog = Catalog(types.set_index("instance_type"), prices, {}, ebs, empty_sagemaker)
    markups, basis = sagemaker_markups(catalog)
    catalog.metadata["sagemaker_markups"] = markups
    sagemaker = build_sagemaker(catalog)

    off = compare_reference(catalog)
    if off:
        print(f"error: {', '.join(off)} differ from DESIGN §5 by more than {REFERENCE_TOLERANCE:.0%}; "
              "nothing written", file=sys.stderr)
        return 1

    inputs = {"vantage": vantage_file, "moto": folder / MOTO_TYPES, "spot_advisor": folder / SPOT_ADVISOR}
    sources = []
    for key, source in SOURCES.items():
        entry = dict(source)
        if key in inputs:
            entry["file"] = inputs[key].name
            entry["sha256"] = sha256(inputs[key])
        sources.append(entry)
    metadata = {
        "schema": 1,
        "price_list_date": PRICE_LIST_DATE,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "built_by": "tools/build_catalog.py",
        "sources": sources,
        "counts": {
            "instance_types": len(types),
            "priced_types": int(prices["instance_type"].nunique()),
            "regions": int(prices["region"].nunique()),
            "priced_rows": len(prices),
            "rows_with_spot_band": int(prices["interruption_band"].notna().sum()),
            "sagemaker_rows": len(sagemaker),
            "ebs_rows": len(ebs),
            "platform_rows": len(platforms),
        },
        "dropped": dropped,
        "region_basket": list(REGION_BASKET),
        "sagemaker_markups": markups,
        "sagemaker_markup_basis": basis,
        "units": {"memory_gib": "GiB", "gpu_memory_gib": "GiB total over all GPUs", "network_gbps":
                  "Gbit/s baseline", "ebs_baseline_mbps": "MB/s", "ondemand_hourly": "USD/h Linux",
                  "spot_hourly": "USD/h: ondemand_hourly x (1 - spot_savings_pct / 100)",
                  "spot_savings_pct": "% below on-demand (Spot Instance Advisor)",
                  "interruption_band": "Spot Advisor r: 0 <5%, 1 5-10%, 2 10-15%, 3 15-20%, 4 >20%"},
    }
    written = [
        atomic_write_bytes(OUT / "instance_types.parquet", parquet_bytes(types)),
        atomic_write_bytes(OUT / "prices.parquet", parquet_bytes(prices)),
        atomic_write_bytes(OUT / PLATFORM_FILE, parquet_bytes(platforms)),
        atomic_write_text(OUT / "sagemaker_prices.csv", sagemaker.to_csv(index=False)),
        atomic_write_text(OUT / "catalog.json", json.dumps(metadata, indent=2, ensure_ascii=False) + "\n"),
    ]
    for path in written:
        path.chmod(0o644)  # the atomic writer's temporary file is private; these ship in the package

    size = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    print(f"wrote {OUT.relative_to(ROOT)}: {len(types)} types, {len(prices)} priced rows in "
          f"{metadata['counts']['regions']} regions, {len(sagemaker)} SageMaker rows; {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
