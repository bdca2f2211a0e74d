"""What one resource costs now, from its inventory row and the catalog (as the user pays it: ``catalog.discounts``).

Each kind declares its pricing (``advisor.kinds``): ``instance`` (the type on its service's list, plus any Elastic
Inference attachment), ``volume`` (EBS type, size, IOPS, throughput) or ``vcpu_hours`` (a Batch environment's mean
per-vCPU price). Discounts apply to on-demand instance prices only, each to its scope
(:mod:`advisor.catalog.discounts`); the public on-demand price is kept beside the effective one, because Spot is
priced from it and no discount covers Spot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from advisor import kinds
from advisor.catalog import Catalog
from advisor.catalog.catalog import LINUX
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
    unpriced: str | None = None  # why there is no price, when the reason is more than a missing catalog row


COLUMNS = ("hourly_price", "price_estimated", "monthly_cost", "hours_billed", "ei_hourly", "ondemand_hourly",
           "discount_pct", "unpriced_reason")
UNPRICED = Price(np.nan, False, np.nan, HOURS_PER_MONTH, np.nan, np.nan, 0.0)
# Capacity paid for whether or not the instance runs on it: stopping or shrinking the instance frees the capacity
# for other work, it does not cut the bill (cancelling or resizing the reservation does). Capacity Blocks and
# training plans are paid upfront; an On-Demand Capacity Reservation is billed at the on-demand rate, used or not;
# a Dedicated Host is billed per host; an Outposts rack is bought for its term; Scheduled Instances are bought for
# their schedule. (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/capacity-reservations-pricing-billing.html)
PAID_LIFECYCLES = {"capacity-block": "an EC2 Capacity Block", "scheduled": "a Scheduled Instance reservation",
                   "interruptible-capacity-reservation": "an interruptible Capacity Reservation"}


def paid_capacity(row: Any) -> str | None:
    """What already pays for the resource's capacity (a phrase for notes), or None for pay-as-you-go capacity."""
    lifecycle = text(row.lifecycle) or "on-demand"
    if lifecycle in PAID_LIFECYCLES:
        return PAID_LIFECYCLES[lifecycle]
    if text(row.tenancy) == "host":
        return "a Dedicated Host"
    if text(row.outpost):
        return "an AWS Outposts rack"
    reservation = text(row.capacity_reservation)
    if not reservation:
        return None
    if ":training-plan/" in reservation:
        return f"SageMaker training plan {reservation.rsplit('/', 1)[-1]}"
    if reservation.startswith("arn:"):
        return f"SageMaker capacity reservation {reservation.rsplit('/', 1)[-1]}"
    return f"On-Demand Capacity Reservation {reservation}"


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
    ondemand = float(per_vcpu["list"].mean())
    if text(row.lifecycle) == "spot":  # a Spot environment pays the Spot price, which no discount covers
        hourly = float(per_vcpu["spot"].mean())
        if np.isnan(hourly):
            return UNPRICED._replace(unpriced=f"no Spot price for the environment's types in {row.region}")
        return Price(hourly, False, hourly * (number(row.vcpu_hours) or np.nan), HOURS_PER_MONTH, np.nan, ondemand,
                     0.0)
    hourly = float(per_vcpu["ondemand"].mean())
    return Price(hourly, False, hourly * (number(row.vcpu_hours) or np.nan), HOURS_PER_MONTH, np.nan, ondemand,
                 round(100 * (1 - hourly / ondemand), 4))


def _instance_price(row: Any, catalog: Catalog) -> Price:
    """Instances of a type on its kind's service list (EC2's, or SageMaker's), plus any Elastic Inference.

    A heterogeneous training cluster (``instance_groups``) is priced group by group: one unit is the mean price of
    its instances. A job's billed hours are its billable time plus the time a warm pool kept its instances.
    """
    if not text(row.instance_type):
        return UNPRICED
    kind = kinds.get(row.kind)
    service = kind.service or "ec2"
    if text(row.tenancy) == "dedicated":  # Dedicated Instances have their own rates (and a per-region fee)
        return UNPRICED._replace(unpriced="no price for dedicated tenancy in the catalog (Dedicated Instances are "
                                          "billed at their own rates)")
    groups = instance_groups(row.instance_groups) or [(str(row.instance_type), float(row.count))]
    priced = []  # (public USD/h, paid USD/h, estimated?, instances) per group
    for name, n in groups:
        found = _listed(name, row.region, service, catalog, platform_of(row))
        if found is None:
            return UNPRICED._replace(unpriced=_why_unpriced(name, row, catalog))
        unit = basis_hourly(name, row, catalog, found[0])
        if unit is None:
            return UNPRICED._replace(unpriced=_why_unpriced(name, row, catalog))
        priced.append((found[0], unit, found[1], n))
    count = sum(group[3] for group in priced)
    # one unit is the mean instance; nothing running (a variant at 0 instances) keeps its type's unit price
    weights = [group[3] / count for group in priced] if count > 0 else [1.0] + [0.0] * (len(priced) - 1)
    listed = sum(w * group[0] for w, group in zip(weights, priced, strict=True))
    paid = sum(w * group[1] for w, group in zip(weights, priced, strict=True))
    est = any(group[2] for group in priced)
    ei_price, ei_est = _elastic_inference_price(row, catalog)
    extra = float(np.nan_to_num(ei_price))  # no discount covers Elastic Inference
    hourly, ondemand = paid + extra, listed + extra
    hours = HOURS_PER_MONTH
    if kind.per_run:
        billed = number(row.billable_seconds) or number(row.training_seconds) or 0.0
        hours = (billed + (number(row.warm_pool_seconds) or 0.0)) / 3600.0
    pct = round(100 * (1 - paid / listed), 4) if listed and not on_spot(row) else 0.0
    # capacity bought at its own price (a Capacity Block, a host, a rack, a plan): the on-demand rate estimates it;
    # an On-Demand Capacity Reservation is billed at exactly that rate
    reserved = paid_capacity(row)
    prepaid = reserved is not None and not reserved.startswith("On-Demand Capacity Reservation")
    return Price(hourly, est or ei_est or prepaid, hourly * hours * count, hours, ei_price, ondemand, pct)


def figures(row: Any, action: str) -> list[str]:
    """The kinds of catalog figure a finding's money rests on (``advisor.catalog.catalog.PRICE_FIGURES``), so each
    can be dated by its own source: the resource's price list, Spot figures for Spot prices and Spot advice, the
    Elastic Inference table for an attachment."""
    kind = kinds.get(_get(row, "kind"))
    spot = action == "use_spot" or on_spot(row) or (kind.pricing == "vcpu_hours" and text(_get(row, "lifecycle"))
                                                     == "spot")
    if kind.pricing == "volume":
        found = ["ebs"]
    elif kind.service in ("hosting", "training"):
        found = ["sagemaker", "ec2_ondemand"]  # SageMaker prices not sourced are EC2's x a markup
    else:
        found = ["ec2_ondemand"] + (["platform"] if platform_of(row) != LINUX else [])
    if spot:
        found.append("spot")
    if text(_get(row, "accelerator_type")) and pd.notna(_get(row, "ei_hourly")):
        found.append("elastic_inference")
    return found


def _listed(instance_type: str, region: str, service: str, catalog: Catalog,
            platform: str = LINUX) -> tuple[float, bool] | None:
    """Public on-demand USD/hour of a type on a service's list (EC2's at the platform) and whether it is estimated
    (None: not priced)."""
    if service == "ec2":
        price = catalog.hourly_price(instance_type, region, platform)
        return None if price is None else (price, False)
    return catalog.sagemaker_hourly(instance_type, region)


def _get(row: Any, name: str) -> Any:
    """A column of a row given as a mapping (a features record) or with attributes (a namedtuple, a Series)."""
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def platform_of(row: Any) -> str:
    """The EC2 platform a resource runs (AWS's PlatformDetails), Linux/UNIX when not given."""
    return text(_get(row, "platform")) or LINUX


def on_spot(row: Any) -> bool:
    """An EC2 instance bought as a Spot Instance (a SageMaker job's managed Spot is billed by its billable time)."""
    return (kinds.get(_get(row, "kind")).service or "ec2") == "ec2" and text(_get(row, "lifecycle")) == "spot"


def basis_hourly(instance_type: str, row: Any, catalog: Catalog, listed: float | None = None) -> float | None:
    """USD/hour of ``instance_type`` as ``row``'s resource buys it: on its platform, at the Spot price for a Spot
    Instance (the Spot Instance Advisor's savings %, published for Linux), else on-demand less the user's discount
    for its scope. None where the catalog has no such price. ``listed``: the on-demand price, when known."""
    service = kinds.get(row.kind).service or "ec2"
    platform = platform_of(row) if service == "ec2" else LINUX
    if listed is None:
        found = _listed(instance_type, row.region, service, catalog, platform)
        if found is None:
            return None
        listed = found[0]
    if on_spot(row):
        savings = catalog.spot_savings(instance_type, row.region)
        return None if savings is None or platform != LINUX else listed * (1 - savings / 100)
    return listed * catalog.discounts.factor(instance_type, service)


def _why_unpriced(instance_type: str, row: Any, catalog: Catalog) -> str | None:
    """The reason a type has no price for this resource when it is the platform or the purchase option (None: the
    type is not in the region's price list at all, which the pipeline says itself)."""
    if catalog.hourly_price(instance_type, row.region) is None or (kinds.get(row.kind).service or "ec2") != "ec2":
        return None
    platform = platform_of(row)
    if catalog.hourly_price(instance_type, row.region, platform) is None:
        return f"no price for platform {platform} of {instance_type} in {row.region} in the catalog"
    return f"no Spot price for {instance_type} ({platform}) in {row.region} in the catalog"


def instance_groups(value: object) -> list[tuple[str, float]]:
    """``"ml.p4d.24xlarge:2;ml.c5.4xlarge:4"`` as [(type, count), ...] (empty when not given).

    The file source checks the text (``advisor.sources.domains.check_instance_groups``); the AWS collector writes
    it from a training job's ``ResourceConfig.InstanceGroups``.
    """
    found = text(value)
    if not found:
        return []
    groups = []
    for part in found.split(";"):
        name, _, count = part.strip().rpartition(":")
        groups.append((name.strip(), float(count)))
    return groups


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
