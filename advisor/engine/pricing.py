"""What one resource costs now, from its inventory row and the catalog (as the user pays it: ``catalog.discounts``).

Each kind declares its pricing (``advisor.kinds``): ``instance`` (the type on its service's list, plus any Elastic
Inference attachment), ``volume`` (EBS type, size, IOPS, throughput) or ``vcpu_hours`` (a Batch environment's mean
per-vCPU price). Discounts apply to on-demand instance prices only, each to its scope
(:mod:`advisor.catalog.discounts`); the public on-demand price is kept beside the effective one, because Spot is
priced from it and no discount covers Spot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from advisor import kinds
from advisor.catalog import Catalog
from advisor.engine import accelerators
from advisor.errors import CatalogError
from advisor.model import HOURS_PER_MONTH


class Price(NamedTuple):
    """One resource's price (NaN where unknown)."""

    hourly: float  # USD/hour of one unit as paid (after discounts), Elastic Inference included
    estimated: bool
    monthly: float  # all units over the billed hours (a job: per run, made monthly by the features)
    hours: float  # billed hours: 730 a month, or a job run's billable hours
    ei_hourly: float  # an Elastic Inference attachment's USD/hour
    ondemand: float  # USD/hour of one unit at the public on-demand price (Spot is priced from it)
    discount_pct: float  # the discount in ``hourly`` (0 when none applies)


COLUMNS = ("hourly_price", "price_estimated", "monthly_cost", "hours_billed", "ei_hourly", "ondemand_hourly",
           "discount_pct")
UNPRICED = Price(np.nan, False, np.nan, HOURS_PER_MONTH, np.nan, np.nan, 0.0)


def price(row: Any, catalog: Catalog) -> Price:
    """The price of an inventory row (a namedtuple of the inventory's columns) by its kind's declared pricing."""
    pricing = kinds.get(row.kind).pricing
    return PRICING[pricing](row, catalog) if pricing else UNPRICED


def _volume_price(row: Any, catalog: Catalog) -> Price:
    """An EBS volume: its type, size, IOPS and throughput (no discount covers EBS)."""
    if not text(row.volume_type) or pd.isna(row.size_gib):
        return UNPRICED
    try:
        monthly, est = catalog.ebs_monthly(row.volume_type, row.size_gib, number(row.iops),
                                           number(row.throughput_mibps), row.region)
    except CatalogError:  # a type the catalog does not know (gp4): this volume is skipped as unpriced, not the run
        return UNPRICED
    hourly = monthly / HOURS_PER_MONTH
    return Price(hourly, est, monthly, HOURS_PER_MONTH, np.nan, hourly, 0.0)


def _vcpu_hours_price(row: Any, catalog: Catalog) -> Price:
    """A Batch compute environment: one unit is one vCPU-hour (the mean over its allowed types)."""
    per_vcpu = batch_vcpu_prices(row.instance_type, row.region, catalog)
    if per_vcpu.empty:
        return UNPRICED
    hourly, ondemand = float(per_vcpu["ondemand"].mean()), float(per_vcpu["list"].mean())
    return Price(hourly, False, hourly * (number(row.vcpu_hours) or np.nan), HOURS_PER_MONTH, np.nan, ondemand,
                 round(100 * (1 - hourly / ondemand), 4))


def _instance_price(row: Any, catalog: Catalog) -> Price:
    """An instance type on its kind's service list (EC2's, or SageMaker's), plus any Elastic Inference."""
    if not text(row.instance_type):
        return UNPRICED
    kind = kinds.get(row.kind)
    service = kind.service or "ec2"
    count = float(row.count)
    ei_price, ei_est = _elastic_inference_price(row, catalog)
    if service == "ec2":
        listed = catalog.hourly_price(row.instance_type, row.region)
        if listed is None:
            return UNPRICED
        est = ei_est
    else:
        found = catalog.sagemaker_hourly(row.instance_type, row.region)
        if found is None:
            return UNPRICED
        listed, est = found[0], found[1] or ei_est
    pct = catalog.discounts.pct(row.instance_type, service)
    extra = float(np.nan_to_num(ei_price))  # no discount covers Elastic Inference
    hourly, ondemand = listed * (1 - pct / 100) + extra, listed + extra
    hours = HOURS_PER_MONTH
    if kind.per_run:
        hours = (number(row.billable_seconds) or number(row.training_seconds) or 0.0) / 3600.0
    return Price(hourly, est, hourly * hours * count, hours, ei_price, ondemand, pct)


PRICING: dict[str, Callable[[Any, Catalog], Price]] = {
    "instance": _instance_price, "volume": _volume_price, "vcpu_hours": _vcpu_hours_price}


def _elastic_inference_price(row: Any, catalog: Catalog) -> tuple[float, bool]:
    """Hourly price of an EI attachment; EC2's eia2.* is priced as SageMaker's ml.eia2.* (an estimate)."""
    name = text(row.accelerator_type)
    if not name or not accelerators.is_elastic_inference(pd.Series([name]))[0]:
        return np.nan, False
    found = catalog.sagemaker_hourly("ml." + name.removeprefix("ml."), row.region)
    if found is None:
        return np.nan, False
    return found[0], found[1] or kinds.get(row.kind).service == "ec2"


def batch_vcpu_prices(instance_types: object, region: str, catalog: Catalog) -> pd.DataFrame:
    """Per allowed type of a Batch environment: vCPUs, USD per vCPU-hour on-demand as paid (``ondemand``: the
    EC2 discounts apply to the instances Batch launches) and public (``list``), Spot, and the interruption band."""
    names = [n.strip() for n in str(instance_types or "").split(",") if n.strip()]
    offered = catalog.offered(region)
    known = offered.loc[offered.index.intersection(names)]
    if known.empty:
        return pd.DataFrame(columns=["vcpus", "ondemand", "list", "spot", "band"])
    savings = known["spot_savings_pct"].astype(float)
    listed = known["ondemand_hourly"].astype(float) / known["vcpus"].astype(float)
    factor = np.array([catalog.discounts.factor(name, "ec2") for name in known.index])
    return pd.DataFrame({"vcpus": known["vcpus"].astype(float), "ondemand": listed * factor, "list": listed,
                         "spot": listed * (1 - savings / 100), "band": known["interruption_band"].astype(float)})


def text(value: Any) -> str | None:
    """A non-empty string, or None for missing values (None, NaN, NA, "")."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "" else str(value)


def number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
