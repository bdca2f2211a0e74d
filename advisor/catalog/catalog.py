"""The bundled, dated, offline instance and price catalog (built by ``tools/build_catalog.py``).

Files in ``advisor/data/catalog/``:

* ``instance_types.parquet``: one row per EC2 type (specs; see ``TYPE_COLUMNS``).
  ``ebs_baseline_mbps`` is in MB/s (megabytes, as AWS's ``BaselineThroughputInMBps``), ``network_gbps`` is the
  baseline bandwidth in Gbit/s. ``gpus`` counts the GPU devices the instance sees and ``gpu_share`` the
  physical-GPU equivalents (0.125 for a g6f.large's eighth of an L4, 8 for a p5.48xlarge).
* ``prices.parquet``: one row per type × region with a positive Linux on-demand price; a type is *offered*
  in a region exactly when it has such a row.
* ``platform_prices.parquet`` (optional): per type × region, what each other platform (RHEL, SUSE, Ubuntu Pro,
  Windows, SQL Server: ``PLATFORMS``) costs per hour above Linux; without it only Linux/UNIX is priced.
* ``ebs_prices.csv`` and ``sagemaker_prices.csv``: hand-sourced tables; rows with ``estimated`` true are derived.
* ``catalog.json``: sources with their dates, the price-list date, counts and the SageMaker markups.

Region scaling: where a price is only known for us-east-1 (EBS, Elastic Inference), another region's price is
estimated as the us-east-1 price × ``region_ratio(region)``, the ratio of that region's summed Linux on-demand
prices to us-east-1's for the basket ``REGION_BASKET`` (types missing from the region are left out of both
sums). Such prices are flagged ``estimated``.
"""

from __future__ import annotations

import difflib
import json
import math
from datetime import UTC, date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from advisor.catalog.discounts import NO_DISCOUNTS, Discounts
from advisor.errors import CatalogError
from advisor.resources import data_path
from advisor.store.paths import user_catalog_dir

REFERENCE_REGION = "us-east-1"
REGION_BASKET = ("m5.xlarge", "c5.xlarge", "r5.xlarge")
SAGEMAKER_PREFIX = "ml."

TYPE_COLUMNS = (
    "instance_type", "family", "size", "generation", "vcpus", "memory_gib", "gpus", "gpu_share", "gpu_model",
    "gpu_manufacturer", "gpu_memory_gib", "accelerator", "accelerator_count", "accelerator_memory_gib", "arch",
    "processor", "burstable", "bare_metal", "network_gbps", "ebs_baseline_mbps", "ebs_max_iops",
)
PRICE_COLUMNS = (
    "instance_type", "region", "ondemand_hourly", "spot_hourly", "spot_savings_pct", "interruption_band",
)
# GPU families AWS lists as previous generation (https://docs.aws.amazon.com/ec2/latest/instancetypes/
# ec2-previous-generation.html: P2 with NVIDIA K80, P3/P3dn with V100, G3/G3s with M60), while the price list and
# DescribeInstanceTypes still call them current: never a target, and a modernisation finding of their own.
RETIRED_GPU_FAMILIES = ("p2", "p3", "p3dn", "g3", "g3s")
# The platforms EC2 prices differently, by the PlatformDetails AWS reports for an instance (DescribeInstances),
# and their column in platform_prices.parquet (the price-list operating system, vantage's key). A BYOL platform is
# billed at the Linux/UNIX rate (the licence is paid elsewhere). A platform not listed here has no price.
LINUX = "Linux/UNIX"
PLATFORMS = {
    LINUX: "linux", "Red Hat BYOL Linux": "linux",
    "Red Hat Enterprise Linux": "rhel", "Red Hat Enterprise Linux with HA": "rhelHA",
    "Red Hat Enterprise Linux with SQL Server Standard": "rhelSQL",
    "Red Hat Enterprise Linux with SQL Server Web": "rhelSQLWeb",
    "Red Hat Enterprise Linux with SQL Server Enterprise": "rhelSQLEnterprise",
    "Red Hat Enterprise Linux with HA and SQL Server Standard": "rhelHASQL",
    "Red Hat Enterprise Linux with HA and SQL Server Enterprise": "rhelHASQLEnterprise",
    "SUSE Linux": "sles", "Ubuntu Pro": "ubuntu",
    "Windows": "mswin", "Windows with SQL Server Standard": "mswinSQL",
    "Windows with SQL Server Web": "mswinSQLWeb", "Windows with SQL Server Enterprise": "mswinSQLEnterprise",
    "Linux with SQL Server Standard": "linuxSQL", "Linux with SQL Server Web": "linuxSQLWeb",
    "Linux with SQL Server Enterprise": "linuxSQLEnterprise",
}
# The kinds of money figure a source of catalog.json provides (its "prices" list), for people.
PRICE_FIGURES = {"ec2_ondemand": "EC2 on-demand prices", "platform": "other platforms' prices",
                 "spot": "Spot savings and interruption bands", "sagemaker": "SageMaker prices",
                 "ebs": "EBS prices", "elastic_inference": "Elastic Inference prices"}
DEFAULT_MAX_AGE_DAYS = 180.0  # a price source older than this is flagged ([catalog] max_age_days)
# Spot Instance Advisor interruption-frequency bands, indexed by its 'r' value.
INTERRUPTION_BANDS = ("<5%", "5-10%", "10-15%", "15-20%", ">20%")

_FILES = ("instance_types.parquet", "prices.parquet", "catalog.json", "ebs_prices.csv", "sagemaker_prices.csv")
PLATFORM_FILE = "platform_prices.parquet"  # optional: without it only Linux/UNIX instances are priced


def sagemaker_price_class(spec: pd.Series) -> str:
    """Family class used to carry a SageMaker markup over EC2 from sourced types to the rest.

    P-series GPUs, other GPUs, non-GPU accelerators (Inferentia, Trainium, ...) and CPU-only types are marked
    up differently by SageMaker, so a markup observed on one class is only applied within it.
    """
    if spec["gpus"] > 0:
        return "gpu_p" if str(spec["family"]).startswith("p") else "gpu_g"
    if spec["accelerator_count"] > 0:
        return "accelerator"
    return "cpu"


def mark_retired(types: pd.DataFrame) -> pd.DataFrame:
    """``types`` with the families of ``RETIRED_GPU_FAMILIES`` marked previous generation."""
    retired = types["family"].astype(str).isin(RETIRED_GPU_FAMILIES).to_numpy()
    if not retired.any() or (types.loc[retired, "generation"].astype(str) == "previous").all():
        return types
    types = types.copy()
    categorical = isinstance(types["generation"].dtype, pd.CategoricalDtype)
    generation = types["generation"].astype(str).where(~retired, "previous")
    types["generation"] = generation.astype("category") if categorical else generation
    return types


def _python(value: Any) -> Any:
    """Plain JSON-friendly value: numpy scalars unwrapped, NaN/NA as None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def source_date(value: object) -> date | None:
    """A source's date: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (their first day); None when unknown."""
    text = str(value or "")
    for pattern, suffix in (("%Y-%m-%d", ""), ("%Y-%m-%d", "-01"), ("%Y-%m-%d", "-01-01")):
        try:
            return datetime.strptime(text + suffix, pattern).date()
        except ValueError:
            continue
    return None


def stale_sources(sources: list[dict[str, Any]], now: datetime, max_age_days: float) -> list[str]:
    """A warning per price source (one with a ``prices`` list) older than ``max_age_days`` at ``now``. A year-only
    date counts from its first day, so a source is never called younger than it may be; an undated one is left out
    (its date is stated as unknown wherever it is listed)."""
    warnings = []
    for source in sources:
        figures = source.get("prices") or []
        dated = source_date(source.get("date"))
        if not figures or dated is None:
            continue
        age = (now.date() - dated).days
        if age > max_age_days:
            what = ", ".join(PRICE_FIGURES.get(f, f) for f in figures)
            exact = len(str(source["date"])) == len("YYYY-MM-DD")
            dated_as = f"dated {source['date']}: {age}" if exact else f"dated only to {source['date']}: up to {age}"
            warnings.append(f"{source['name']} ({what}) is {dated_as} days old, more than {max_age_days:g}; these "
                            "figures may have changed since")
    return warnings


def _strip_ml(instance_type: str) -> str:
    return instance_type.removeprefix(SAGEMAKER_PREFIX)


class Catalog:
    """Instance specs and prices for one dated price list; every method is a local lookup, never a call to AWS."""

    def __init__(
        self,
        types: pd.DataFrame,
        prices: pd.DataFrame,
        metadata: dict[str, Any],
        ebs: pd.DataFrame,
        sagemaker: pd.DataFrame,
        path: Path | None = None,
        platforms: pd.DataFrame | None = None,
    ) -> None:
        self.types = types
        self.prices = prices
        self.metadata = metadata
        self.ebs = ebs
        self.sagemaker = sagemaker
        self.path = path
        # instance_type, region and one column per non-Linux platform key: USD/hour above the Linux price
        self.platforms = platforms if platforms is not None else pd.DataFrame(columns=["instance_type", "region"])
        self.price_list_date: str = metadata.get("price_list_date", "unknown")
        self.sources: list[dict[str, Any]] = metadata.get("sources", [])
        self._offered: dict[str, pd.DataFrame] = {}
        self._ratios: dict[str, float | None] = {}
        self.discounts: Discounts = NO_DISCOUNTS  # see discounted()
        self._views: dict[Discounts, Catalog] = {}

    def discounted(self, discounts: Discounts) -> Catalog:
        """This catalog as the user pays it: ``discounts`` apply wherever an on-demand price becomes a cost (the
        engine's pricing, candidates and Batch prices read ``catalog.discounts``); lookups stay public prices.

        One view per set of discounts, so tables cached per catalog (candidate types) are built once.
        """
        if not discounts:
            return self._base()
        base = self._base()
        if discounts not in base._views:
            view = Catalog(base.types, base.prices, base.metadata, base.ebs, base.sagemaker, base.path,
                           base.platforms)
            view.discounts, view._views = discounts, {NO_DISCOUNTS: base}
            view._offered, view._ratios = base._offered, base._ratios
            base._views[discounts] = view
        return base._views[discounts]

    def _base(self) -> Catalog:
        return self._views.get(NO_DISCOUNTS, self)

    # -- lookups -----------------------------------------------------------------------------------------

    @cached_property
    def _ondemand(self) -> dict[tuple[str, str], float]:
        frame = self.prices
        return dict(zip(zip(frame["instance_type"].astype(str), frame["region"].astype(str), strict=True),
                        frame["ondemand_hourly"].astype(float), strict=True))

    @cached_property
    def _sagemaker(self) -> dict[tuple[str, str], tuple[float, bool]]:
        frame = self.sagemaker
        return {(t, r): (float(h), bool(e)) for t, r, h, e in
                zip(frame["instance_type"], frame["region"], frame["hourly"], frame["estimated"], strict=True)}

    @cached_property
    def spot_table(self) -> pd.DataFrame:
        """The Spot Instance Advisor's savings % and interruption band (floats) by (instance_type, region): built
        once per catalog and shared by every audit on it, so never to be changed in place."""
        table = self.prices.assign(instance_type=self.prices["instance_type"].astype(str),
                                   region=self.prices["region"].astype(str))
        return table.set_index(["instance_type", "region"])[["spot_savings_pct", "interruption_band"]].astype(float)

    @cached_property
    def regions(self) -> list[str]:
        """Regions with at least one priced type."""
        return sorted(self.prices["region"].astype(str).unique())

    def offered(self, region: str) -> pd.DataFrame:
        """Types offered in ``region`` (spec columns + price columns), index instance_type; empty if none."""
        if region not in self._offered:
            rows = self.prices[self.prices["region"] == region]
            rows = rows.set_index(rows["instance_type"].astype(str)).drop(columns=["instance_type", "region"])
            self._offered[region] = self.types.join(rows, how="inner")
        return self._offered[region].copy()

    def spec(self, instance_type: str) -> pd.Series | None:
        """The spec row of an EC2 type (``ml.`` SageMaker names map to their EC2 type), or None."""
        name = _strip_ml(instance_type)
        if name not in self.types.index:
            return None
        return self.types.loc[[name]].iloc[0]

    @cached_property
    def _premiums(self) -> dict[tuple[str, str, str], float]:
        frame = self.platforms.astype({"instance_type": str, "region": str})
        out: dict[tuple[str, str, str], float] = {}
        for key in frame.columns.drop(["instance_type", "region"]):
            known = frame[frame[key].notna()]
            out.update(zip(zip(known["instance_type"], known["region"], [str(key)] * len(known), strict=True),
                           known[key].astype(float), strict=True))
        return out

    def hourly_price(self, instance_type: str, region: str, platform: str | None = None) -> float | None:
        """EC2 on-demand USD/hour on ``platform`` (AWS's PlatformDetails; Linux/UNIX by default), or None where the
        type is not offered in the region or the catalog has no price for that platform."""
        linux = self._ondemand.get((instance_type, region))
        key = PLATFORMS.get(platform or LINUX)
        if linux is None or key is None or key == "linux":
            return linux if key is not None else None
        premium = self._premiums.get((instance_type, region, key))
        return None if premium is None else round(linux + premium, 6)

    def spot_savings(self, instance_type: str, region: str) -> float | None:
        """The Spot Instance Advisor's savings % off on-demand (Linux) for a type in a region, or None."""
        return self._spot.get((instance_type, region))

    @cached_property
    def _spot(self) -> dict[tuple[str, str], float]:
        frame = self.prices.dropna(subset=["spot_savings_pct"])
        return dict(zip(zip(frame["instance_type"].astype(str), frame["region"].astype(str), strict=True),
                        frame["spot_savings_pct"].astype(float), strict=True))

    def region_ratio(self, region: str) -> float | None:
        """Price level of ``region`` relative to us-east-1 over ``REGION_BASKET`` (None if no basket type)."""
        if region not in self._ratios:
            here = base = 0.0
            for name in REGION_BASKET:
                local, ref = self.hourly_price(name, region), self.hourly_price(name, REFERENCE_REGION)
                if local is not None and ref is not None:
                    here, base = here + local, base + ref
            self._ratios[region] = here / base if base else None
        return self._ratios[region]

    def sagemaker_markup(self, price_class: str) -> float:
        """SageMaker hosting price / EC2 price for a family class, as observed on the sourced types."""
        markups: dict[str, float] = self.metadata.get("sagemaker_markups", {})
        if price_class in markups:
            return markups[price_class]
        if "default" in markups:
            return markups["default"]
        raise CatalogError("catalog.json has no SageMaker markups; rebuild it with tools/build_catalog.py")

    def sagemaker_hourly(self, instance_type: str, region: str) -> tuple[float, bool] | None:
        """SageMaker real-time hosting USD/hour and whether it is estimated, or None if it cannot be priced.

        Order: the table's row for (type, region); else the EC2 price there × the SageMaker markup of the
        type's family class; else the table's us-east-1 row × ``region_ratio`` (e.g. Elastic Inference).
        """
        name = SAGEMAKER_PREFIX + _strip_ml(instance_type)
        if (name, region) in self._sagemaker:
            return self._sagemaker[(name, region)]
        spec = self.spec(name)
        ec2 = self.hourly_price(_strip_ml(name), region)
        if spec is not None and ec2 is not None:
            return round(ec2 * self.sagemaker_markup(sagemaker_price_class(spec)), 4), True
        reference = self._sagemaker.get((name, REFERENCE_REGION))
        ratio = self.region_ratio(region)
        if reference is not None and ratio is not None:
            return round(reference[0] * ratio, 4), True
        return None

    def ebs_monthly(
        self,
        volume_type: str,
        size_gib: float,
        iops: float | None,
        throughput_mibps: float | None,
        region: str,
    ) -> tuple[float, bool]:
        """Monthly USD of one EBS volume and whether the price is estimated.

        gp3 charges only IOPS and throughput above its included baseline; io1/io2 charge every provisioned
        IOPS (io2 in tiers); gp2, st1, sc1 and standard charge per GiB only. Missing IOPS or throughput count
        as none provisioned beyond the baseline.
        """
        kind = volume_type.lower()
        rows = self.ebs[self.ebs["volume_type"] == kind]
        if rows.empty:
            known = ", ".join(sorted(self.ebs["volume_type"].unique()))
            raise CatalogError(f"no EBS price for volume type {volume_type!r} (known: {known})")
        local = rows[rows["region"] == region]
        row = (local if not local.empty else rows[rows["region"] == REFERENCE_REGION]).iloc[0]
        factor, estimated = 1.0, bool(row["estimated"])
        if local.empty:
            factor, estimated = self.region_ratio(region) or 1.0, True

        def rate(column: str) -> float:
            value = row.get(column)
            return 0.0 if value is None or pd.isna(value) else float(value)

        iops_value = 0.0 if iops is None or pd.isna(iops) else float(iops)
        mibps = 0.0 if throughput_mibps is None or pd.isna(throughput_mibps) else float(throughput_mibps)
        cost = size_gib * rate("per_gib_month")
        billable_iops = max(0.0, iops_value - rate("included_iops"))
        if kind == "io2":
            tier1, tier2 = min(billable_iops, 32_000.0), min(max(billable_iops - 32_000.0, 0.0), 32_000.0)
            tier3 = max(billable_iops - 64_000.0, 0.0)
            cost += (tier1 * rate("per_iops_month") + tier2 * rate("per_iops_month_32k_64k")
                     + tier3 * rate("per_iops_month_over_64k"))
        else:
            cost += billable_iops * rate("per_iops_month")
        cost += max(0.0, mibps - rate("included_mibps")) * rate("per_mibps_month")
        return round(cost * factor, 4), estimated

    # -- sources and their dates -------------------------------------------------------------------------

    def price_source(self, figure: str) -> dict[str, Any] | None:
        """The source of a kind of money figure (``PRICE_FIGURES``), from the sources' ``prices`` lists."""
        return next((source for source in self.sources if figure in (source.get("prices") or [])), None)

    def price_dates(self, figures: list[str]) -> dict[str, str | None]:
        """Source name -> date, for the sources of these figures (in order, once each)."""
        found = (self.price_source(figure) for figure in figures)
        return {str(source["name"]): source.get("date") for source in found if source is not None}

    def stale_sources(self, now: datetime, max_age_days: float) -> list[str]:
        return stale_sources(self.sources, now, max_age_days)

    # -- reporting ---------------------------------------------------------------------------------------

    def info(self, now: datetime | None = None, max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> dict[str, Any]:
        """What ``advisor catalog info`` shows: price-list date, sources with dates, counts, and a warning per price
        source older than ``max_age_days`` at ``now`` (default: the current time)."""
        types = self.types
        priced = set(self.prices["instance_type"].astype(str))
        return {
            "in_use": "bundled" if self.path == data_path("catalog") else "local (advisor catalog refresh)",
            "price_list_date": self.price_list_date,
            "built_at": self.metadata.get("built_at"),
            "path": str(self.path) if self.path else None,
            "warnings": self.stale_sources(now or datetime.now(UTC), max_age_days),
            "sources": self.sources,
            "counts": {
                "instance_types": len(types),
                "priced_types": len(priced),
                "regions": len(self.regions),
                "priced_rows": len(self.prices),
                "gpu_types": int((types["gpus"] > 0).sum()),
                "accelerator_types": int((types["accelerator_count"] > 0).sum()),
                "graviton_types": int(types["processor"].astype(str).str.contains("Graviton").sum()),
                "sagemaker_rows": len(self.sagemaker),
                "ebs_rows": len(self.ebs),
                "platform_rows": len(self.platforms),
            },
            "regions": self.regions,
        }

    def _unknown(self, instance_type: str) -> CatalogError:
        names = [*self.types.index, *self.sagemaker["instance_type"].unique()]
        close = difflib.get_close_matches(instance_type, names, n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return CatalogError(f"unknown instance type {instance_type!r} in the catalog of {self.price_list_date}{hint}")

    def describe(self, instance_type: str, region: str | None = None) -> dict[str, Any]:
        """What ``advisor catalog show TYPE [--region R]`` shows: the spec and prices per region."""
        name = instance_type.strip()
        is_sagemaker = name.startswith(SAGEMAKER_PREFIX)
        spec = self.spec(name)
        table_rows = self.sagemaker[self.sagemaker["instance_type"] == name] if is_sagemaker \
            else self.sagemaker.iloc[:0]
        if spec is None and table_rows.empty:
            raise self._unknown(name)
        ec2_name = _strip_ml(name)
        rows = self.prices[self.prices["instance_type"] == ec2_name]
        if region is not None:
            rows = rows[rows["region"] == region]
        prices = [
            {
                "region": str(r["region"]),
                "ondemand_hourly": _python(r["ondemand_hourly"]),
                "spot_hourly": _python(r["spot_hourly"]),
                "spot_savings_pct": _python(r["spot_savings_pct"]),
                "interruption_band": _python(r["interruption_band"]),
                "interruption": (INTERRUPTION_BANDS[int(r["interruption_band"])]
                                 if not pd.isna(r["interruption_band"]) else None),
            }
            for r in rows.sort_values("region").to_dict("records")
        ]
        out: dict[str, Any] = {
            "instance_type": name,
            "price_list_date": self.price_list_date,
            "spec": None if spec is None else {k: _python(v) for k, v in spec.items()},
            "prices": prices,
        }
        if region is not None:
            out["region"] = region
            out["offered"] = bool(prices)
        if is_sagemaker:
            regions = [region] if region is not None else sorted(
                {p["region"] for p in prices} | set(table_rows["region"]))
            sagemaker = []
            for where in regions:
                priced = self.sagemaker_hourly(name, where)
                if priced is not None:
                    sagemaker.append({"region": where, "hourly": priced[0], "estimated": priced[1]})
            out["sagemaker"] = sagemaker
            notes = list(table_rows["note"].dropna().unique()) if "note" in table_rows.columns else []
            if len(notes):
                out["note"] = str(notes[0])
        return out


def _read(path: Path) -> Catalog:
    missing = [name for name in _FILES if not (path / name).is_file()]
    if missing:
        raise CatalogError(f"catalog at {path} is missing {', '.join(missing)}; "
                           "rebuild it with `python tools/build_catalog.py`")
    types = mark_retired(pd.read_parquet(path / "instance_types.parquet").set_index("instance_type"))
    types.index = types.index.astype(str)
    prices = pd.read_parquet(path / "prices.parquet")
    metadata = json.loads((path / "catalog.json").read_text(encoding="utf-8"))
    ebs = pd.read_csv(path / "ebs_prices.csv")
    sagemaker = pd.read_csv(path / "sagemaker_prices.csv")
    platforms = pd.read_parquet(path / PLATFORM_FILE) if (path / PLATFORM_FILE).is_file() else None
    return Catalog(types, prices, metadata, ebs, sagemaker, path=path, platforms=platforms)


@lru_cache(maxsize=1)
def _bundled() -> Catalog:
    return _read(data_path("catalog"))


@lru_cache(maxsize=1)
def _local(path: Path, modified: int) -> Catalog:
    return _read(path)


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog in ``path``; else the user's local one (``advisor catalog refresh``) if there is one; else the
    bundled one. Each is loaded once per process (a refreshed local catalog is read again)."""
    if path is not None:
        return _read(Path(path))
    local = user_catalog_dir()
    if (local / "catalog.json").is_file():
        return _local(local, (local / "catalog.json").stat().st_mtime_ns)
    return _bundled()
