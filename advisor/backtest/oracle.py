"""The oracle: what the best advice would have been, knowing the later demand.

For each EC2 instance: stop it if it stayed idle, else the cheapest type that would have held the later demand
(no headroom), among sizing's candidates (:func:`advisor.engine.candidates.candidates`: offered in the region,
current generation, not bare metal, not burstable) of the same architecture and accelerator class (CPU stays
CPU; a GPU host may take another GPU model that holds its compute and memory; other accelerators keep their
model), or the current type when nothing cheaper held. Other kinds get no oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.backtest.demand import ResourceDemand
from advisor.catalog import Catalog
from advisor.engine.candidates import candidates
from advisor.model import HOURS_PER_MONTH, Kind


@dataclass(frozen=True)
class OracleChoice:
    target: str  # "stop", a cheaper type, or the current type
    monthly_cost: float
    monthly_savings: float


def oracle_choices(inventory: pd.DataFrame, demand: dict[str, ResourceDemand],
                   catalog: Catalog) -> dict[str, OracleChoice]:
    choices: dict[str, OracleChoice] = {}
    ec2 = inventory[(inventory["kind"] == Kind.EC2_INSTANCE) & inventory["resource_id"].isin(list(demand))]
    for region, rows in ec2.groupby("region", sort=False):
        offered = candidates(catalog, str(region), "ec2", False)
        columns = {c: offered[c].astype(str).to_numpy() for c in ("accel_class", "accel_model", "arch")}
        for row in rows.itertuples(index=False):
            resource_id = str(row.resource_id)
            choice = _choose(row, demand[resource_id], offered, columns, catalog)
            if choice is not None:
                choices[resource_id] = choice
    return choices


def _choose(row, later: ResourceDemand, offered: pd.DataFrame, columns: dict[str, np.ndarray],
            catalog: Catalog) -> OracleChoice | None:
    """``columns``: the candidates' accelerator class, model and architecture as text (read once per region)."""
    hourly = catalog.hourly_price(str(row.instance_type), str(row.region))
    if hourly is None:
        return None
    hours = HOURS_PER_MONTH * float(row.count)
    cost_now = hourly * hours
    if later.idle():
        return OracleChoice("stop", 0.0, round(cost_now, 2))
    current = later.current
    accel_class = str(current["accel_class"])
    if accel_class in ("cpu", "gpu"):  # a GPU host may move to another GPU model that holds its compute
        mask = columns["accel_class"] == accel_class
    else:
        mask = columns["accel_model"] == str(current["accel_model"])
    mask = mask & (columns["arch"] == str(current["arch"]))
    limits = later.limits(offered)
    for dim in later.dims():
        mask = mask & (limits[dim] >= later.need(dim) - 1e-9)
    prices = offered["hourly"].to_numpy(float)
    allowed = np.flatnonzero(mask)
    if len(allowed) == 0 or prices[allowed].min() >= hourly:
        return OracleChoice(str(row.instance_type), round(cost_now, 2), 0.0)
    best = allowed[np.argmin(prices[allowed])]
    cost = float(prices[best]) * hours
    return OracleChoice(str(offered.index[best]), round(cost, 2), round(cost_now - cost, 2))
