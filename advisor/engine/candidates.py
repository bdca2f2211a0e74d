"""Target types a resource may move to: offered in its region, priced for its service, with accelerator capacity.

EC2 resources are priced at the catalog's EC2 on-demand price. SageMaker resources only move within the families
SageMaker offers for that use (``advisor/data/accelerators/sagemaker_families.csv``) and are priced with
``Catalog.sagemaker_hourly`` (estimated prices stay flagged). Names of SageMaker candidates carry the ``ml.``
prefix. ``hourly`` is the price as paid (the catalog's discounts for the type's scope applied), ``list_hourly`` the
public one (Spot is priced from it). Tables are cached per catalog (a discounted catalog is its own view), region
and service: an audit builds each once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from advisor import kinds
from advisor.catalog import Catalog
from advisor.engine import accelerators
from advisor.kinds.base import Service
from advisor.resources import data_path


@lru_cache(maxsize=1)
def sagemaker_families() -> pd.DataFrame:
    return pd.read_csv(data_path("accelerators", "sagemaker_families.csv")).set_index("family")


def service_of(kind_ids: pd.Series) -> np.ndarray:
    """Each resource kind's declared service (EC2's for a kind that declares none)."""
    services = {k.id: k.service for k in kinds.all_kinds() if k.service}
    return kind_ids.map(services).fillna("ec2").to_numpy()


@lru_cache(maxsize=128)
def candidates(catalog: Catalog, region: str, service: Service, allow_burstable: bool) -> pd.DataFrame:
    """Current-generation, non-metal types offered in ``region`` for ``service``.

    Columns: the catalog's spec columns, ``name`` (with ``ml.`` for SageMaker), ``hourly`` (as paid),
    ``list_hourly`` (public), ``estimated`` and
    the accelerator capacity columns (see :mod:`advisor.engine.accelerators`).
    """
    offered = catalog.offered(region)
    keep = (offered["generation"] == "current") & ~offered["bare_metal"].astype(bool)
    keep &= offered["ondemand_hourly"].notna() & (offered["ondemand_hourly"] > 0)
    if not allow_burstable:
        keep &= ~offered["burstable"].astype(bool)
    frame = offered[keep].copy()
    if service == "ec2":
        frame["name"] = frame.index
        frame["list_hourly"] = frame["ondemand_hourly"].astype(float)
        frame["estimated"] = False
    else:
        families = sagemaker_families()
        allowed = families.index[families["hosting" if service == "hosting" else "training"].astype(bool)]
        frame = frame[frame["family"].astype(str).isin(allowed)]
        priced = [catalog.sagemaker_hourly(f"ml.{name}", region) for name in frame.index]
        frame["name"] = "ml." + frame.index
        frame["list_hourly"] = [p[0] if p else np.nan for p in priced]
        frame["estimated"] = [bool(p[1]) if p else False for p in priced]
        frame = frame[frame["list_hourly"].notna()]
    frame["hourly"] = frame["list_hourly"] * [catalog.discounts.factor(name, service) for name in frame["name"]]
    return pd.concat([frame, accelerators.capacity(frame)], axis=1)


NUMBER_COLUMNS = ("hourly", "network_gbps", "vcpus", "memory_gib", "gpus", "units", "fp16", "fp32", "accel_memory",
                  "device_memory")
TEXT_COLUMNS = ("name", "accel_class", "accel_model", "accel_vendor", "arch", "family")


@dataclass(frozen=True)
class CandidateArrays:
    """The columns of a candidate table that sizing matches every resource against, as read-only arrays: converted
    once per table, not once per sizing (calibration sizes the same resources at every point of its grid)."""

    types: np.ndarray  # the EC2 type names (the table's index)
    numbers: dict[str, np.ndarray]  # float
    texts: dict[str, np.ndarray]  # str objects
    estimated: np.ndarray  # bool


@lru_cache(maxsize=128)
def candidate_arrays(catalog: Catalog, region: str, service: Service, allow_burstable: bool) -> CandidateArrays:
    """:func:`candidates` of the same arguments as arrays."""
    frame = candidates(catalog, region, service, allow_burstable)

    def frozen(values: np.ndarray) -> np.ndarray:
        values.setflags(write=False)
        return values

    return CandidateArrays(
        types=frozen(frame.index.to_numpy(dtype=object, copy=True)),
        numbers={c: frozen(frame[c].to_numpy(dtype=float, copy=True)) for c in NUMBER_COLUMNS},
        texts={c: frozen(frame[c].astype(str).to_numpy(dtype=object, copy=True)) for c in TEXT_COLUMNS},
        estimated=frozen(frame["estimated"].to_numpy(dtype=bool, copy=True)))
