"""EBS: change a volume's type or provisioned performance, or snapshot and delete it. Priced by ``ebs_monthly``.

``modify_volume`` builds a gp3 configuration that holds the observed peak I/O plus headroom and never falls below
what the volume delivers now where that matters:

* IOPS = max(3,000 included, a gp2 source's baseline of 3 IOPS/GiB, peak IOPS x (1 + ``iops_headroom``));
* throughput = max(125 MiB/s included, peak MiB/s x (1 + ``throughput_headroom``)), and for a gp2 source at least
  its own limit when no throughput was observed (128 MiB/s up to 170 GiB, 250 MiB/s above);
* within gp3's limits (``gp3_max_iops``, ``gp3_max_mibps``, 500 IOPS/GiB, 0.25 MiB/s per IOPS).

An io1/io2 source also gets its own type with the IOPS lowered to the peak plus headroom; the cheaper of the
two is the target. ``min_monthly_savings`` (a pipeline-wide threshold) drops changes that would not save.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field

from advisor.engine.actions.base import ActionContext, Parameters, Proposal, handles, resources
from advisor.model import HOURS_PER_MONTH, Kind

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule

# AWS EBS facts (docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html, provisioned-iops.html).
GP2_IOPS_PER_GIB, GP2_MIN_IOPS, GP2_MAX_IOPS = 3.0, 100.0, 16_000.0
GP2_SMALL_GIB, GP2_SMALL_MIBPS, GP2_LARGE_MIBPS = 170.0, 128.0, 250.0
GP3_INCLUDED_IOPS, GP3_INCLUDED_MIBPS = 3000.0, 125.0
GP3_IOPS_PER_GIB, GP3_MIBPS_PER_IOPS = 500.0, 0.25
IO_MIN_IOPS = 100.0
MIB = 2.0**20


class VolumeParameters(Parameters):
    iops_headroom: float = Field(0.0, ge=0, description="fraction added to the peak IOPS (0.2 = +20 %)")
    throughput_headroom: float = Field(0.0, ge=0, description="fraction added to the peak throughput (0.2 = +20 %)")
    gp3_max_iops: float = Field(16_000.0, gt=0, description="IOPS: the most a gp3 target may provision")
    gp3_max_mibps: float = Field(1_000.0, gt=0, description="MiB/s: the most a gp3 target may provision")


@handles("modify_volume", Kind.EBS_VOLUME, parameters=VolumeParameters)
def modify_volume(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    t = VolumeParameters.of(rule)
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        size = float(row["size_gib"])
        source = str(row["volume_type"]).lower()
        peak_iops = _num(row["total_iops_max"])
        peak_mibps = _num(row["total_bytes_max"]) / MIB if pd.notna(row["total_bytes_max"]) else np.nan
        configs = []
        gp3 = _gp3(size, source, peak_iops, peak_mibps, t)
        if gp3 is not None:
            configs.append(("gp3", *gp3))
        if source in ("io1", "io2") and pd.notna(peak_iops):
            lowered = max(IO_MIN_IOPS, float(np.ceil(peak_iops * (1 + t.iops_headroom))))
            if lowered < float(row["iops"]):
                configs.append((source, lowered, _num(row["throughput_mibps"])))
        if not configs:
            out[rid] = Proposal(blocked=f"{rule.id}: the peak of {peak_iops:,.0f} IOPS plus headroom needs all the "
                                        f"provisioned IOPS and more than gp3 offers (p99 is low, the peak is not)")
            continue
        options: list[dict[str, Any]] = []
        for volume_type, iops, mibps in configs:
            cost, estimated = ctx.catalog.ebs_monthly(volume_type, size, iops, mibps, str(row["region"]))
            options.append({"instance_type": volume_type, "volume_type": volume_type, "size_gib": size,
                            "iops": iops, "throughput_mibps": mibps, "label": _label(volume_type, source),
                            "hourly_price": round(cost / HOURS_PER_MONTH, 4), "monthly_cost": round(cost, 2),
                            "monthly_savings": round(float(row["monthly_cost"]) - cost, 2),
                            "price_estimated": estimated, "projected_utilization": _projected(peak_iops, iops),
                            "risk": None})
        options.sort(key=lambda o: o["monthly_cost"])
        for rank, option in enumerate(options, 1):
            option["rank"] = rank
        best = options[0]
        out[rid] = Proposal(
            target=best["volume_type"], cost_after=best["monthly_cost"], options=options,
            projected=best["projected_utilization"], price_estimated=best["price_estimated"],
            demand={"iops_peak": _round(peak_iops), "throughput_peak_mibps": _round(peak_mibps)},
            evidence={"volume": {"type": source, "size_gib": size, "iops": _round(row["iops"]),
                                 "throughput_mibps": _round(row["throughput_mibps"]),
                                 "gp2_baseline_iops": _gp2_baseline(size) if source == "gp2" else None,
                                 "burst_balance_min": _round(row["burst_balance_min"])},
                      "target_volume": {k: best[k] for k in ("volume_type", "iops", "throughput_mibps")}},
            notes=["Elastic Volumes changes type, IOPS and throughput in place, without detaching the volume; "
                   "the next change to the same volume must wait 6 hours."],
        )
    return out


@handles("delete", Kind.EBS_VOLUME)
def delete_volume(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    return {rid: Proposal(target="delete", cost_after=0.0,
                          notes=["Take a snapshot first if the data may be needed (snapshots are billed per GB "
                                 "of data stored, usually far less than the volume)."],
                          evidence={"volume": {"type": row["volume_type"], "size_gib": _round(row["size_gib"]),
                                               "attached": bool(row["attached"]), "state": row["state"]}},
                          confidence=0.9 if not row["attached"] else None)
            for rid, row in resources(rows)}


def _gp3(size: float, source: str, peak_iops: float, peak_mibps: float,
         t: VolumeParameters) -> tuple[float, float] | None:
    """(IOPS, MiB/s) of the gp3 volume that holds the peak, or None if gp3 cannot."""
    iops = GP3_INCLUDED_IOPS
    if source == "gp2":
        iops = max(iops, _gp2_baseline(size))
    if pd.notna(peak_iops):
        iops = max(iops, float(np.ceil(peak_iops * (1 + t.iops_headroom))))
    mibps = GP3_INCLUDED_MIBPS
    if pd.notna(peak_mibps):
        mibps = max(mibps, float(np.ceil(peak_mibps * (1 + t.throughput_headroom))))
    elif source == "gp2":
        mibps = GP2_SMALL_MIBPS if size <= GP2_SMALL_GIB else GP2_LARGE_MIBPS
    iops = max(iops, float(np.ceil(mibps / GP3_MIBPS_PER_IOPS)) if mibps > GP3_INCLUDED_MIBPS else iops)
    if (iops > t.gp3_max_iops or mibps > t.gp3_max_mibps
            or iops > GP3_IOPS_PER_GIB * size):
        return None
    return iops, mibps


def _gp2_baseline(size: float) -> float:
    return float(min(GP2_MAX_IOPS, max(GP2_MIN_IOPS, GP2_IOPS_PER_GIB * size)))


def _label(volume_type: str, source: str) -> str:
    return f"{source} with fewer IOPS" if volume_type == source else f"{source} -> {volume_type}"


def _projected(peak_iops: float, iops: float) -> dict[str, float]:
    return {} if pd.isna(peak_iops) or not iops else {"iops": round(float(peak_iops / iops * 100), 1)}


def _num(value) -> float:
    return np.nan if value is None or pd.isna(value) else float(value)


def _round(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)
