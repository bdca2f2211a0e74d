"""EBS: change a volume's type or provisioned performance, or snapshot and delete it. Priced by ``ebs_monthly``.

``modify_volume`` builds a gp3 configuration that holds the observed peak I/O plus headroom and never falls below
what the volume delivers now where that matters:

* IOPS = max(3,000 included, a gp2 source's baseline of 3 IOPS/GiB, peak IOPS x (1 + ``iops_headroom``));
* throughput = max(125 MiB/s included, peak MiB/s x (1 + ``throughput_headroom``)), and for a gp2 source at least
  its own limit when no throughput was observed (128 MiB/s up to 170 GiB, 250 MiB/s above);
* within gp3's limits (``gp3_max_iops``, ``gp3_max_mibps``: the catalog's 80,000 IOPS and 2,000 MiB/s unless
  set; 500 IOPS/GiB, 0.25 MiB/s per IOPS).

Peaks are the highest per-minute rates (the AWS source reads EBS's I/O counters as 1-minute sums). A peak at the
volume's own limit (98 % or more of its IOPS or throughput cap) is *censored*: the volume could not go faster, so
the need is only known to be at least the cap; it is sized at the cap plus headroom and the finding is at most
medium confidence. An io1/io2 source also gets its own type with the IOPS lowered to the peak plus headroom; the
cheaper of the two is the target, but gp3 is never offered for a Multi-Attach volume (gp3 does not support
Multi-Attach). ``min_monthly_savings`` (a pipeline-wide threshold) drops changes that would not save.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from advisor.engine.actions.base import ActionContext, Proposal, resources
from advisor.engine.actions.params import VolumeParameters
from advisor.model import HOURS_PER_MONTH

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule

# AWS EBS facts (docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html, provisioned-iops.html).
GP2_IOPS_PER_GIB, GP2_MIN_IOPS, GP2_MAX_IOPS = 3.0, 100.0, 16_000.0
GP2_BURST_IOPS, GP2_BURST_BELOW_GIB = 3000.0, 1000.0  # 1,000 GiB and more: baseline >= 3,000, no burst credits
GP2_SMALL_GIB, GP2_SMALL_MIBPS, GP2_LARGE_MIBPS = 170.0, 128.0, 250.0
GP3_INCLUDED_IOPS, GP3_INCLUDED_MIBPS = 3000.0, 125.0
GP3_IOPS_PER_GIB, GP3_MIBPS_PER_IOPS = 500.0, 0.25
IO_MIN_IOPS = 100.0
CENSORED_AT = 0.98  # a peak at 98 % of the volume's cap or more: the volume was at its limit
MIB = 2.0**20
MEDIUM = 0.75  # the highest confidence a finding on a censored peak may have (under "high")
MULTI_ATTACH_NOTE = ("Multi-Attach is enabled: only io1 and io2 support it, so gp3 is not offered (detach the other "
                     "instances and disable Multi-Attach first if the volume no longer needs it).")
IO2_DURABILITY_NOTE = ("Durability: io2 volumes are designed for 99.999 % a year, gp3 (like io1) for 99.8-99.9 %; "
                       "moving to gp3 gives that up.")


def modify_volume(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    t = VolumeParameters.of(rule)
    limits = _gp3_limits(ctx, t)
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        size = float(row["size_gib"])
        source = str(row["volume_type"]).lower()
        peak = Peak(_num(row["total_iops_max"]),
                    _num(row["total_bytes_max"]) / MIB if pd.notna(row["total_bytes_max"]) else np.nan)
        caps = _caps(source, size, _num(row["iops"]), _num(row["throughput_mibps"]))
        censored = peak.censored(caps)
        need = peak.need(caps, censored)
        multi_attach = _flag(row.get("multi_attach"))
        configs = []
        gp3 = None if multi_attach else _gp3(size, source, need.iops, need.mibps, t, limits)
        if gp3 is not None:
            configs.append(("gp3", *gp3))
        if source in ("io1", "io2") and pd.notna(need.iops):
            lowered = max(IO_MIN_IOPS, float(np.ceil(need.iops * (1 + t.iops_headroom))))
            if lowered < float(row["iops"]):
                configs.append((source, lowered, _num(row["throughput_mibps"])))
        if not configs:
            why = (MULTI_ATTACH_NOTE if multi_attach else
                   f"the peak of {peak.iops:,.0f} IOPS plus headroom needs all the provisioned IOPS and more than gp3 "
                   "offers (p99 is low, the peak is not)")
            out[rid] = Proposal(blocked=f"{rule.id}: {why}")
            continue
        options: list[dict[str, Any]] = []
        for volume_type, iops, mibps in configs:
            cost, estimated = ctx.catalog.ebs_monthly(volume_type, size, iops, mibps, str(row["region"]))
            options.append({"instance_type": volume_type, "volume_type": volume_type, "size_gib": size,
                            "iops": iops, "throughput_mibps": mibps, "label": _label(volume_type, source),
                            "hourly_price": round(cost / HOURS_PER_MONTH, 4), "monthly_cost": round(cost, 2),
                            "monthly_savings": round(float(row["monthly_cost"]) - cost, 2),
                            "price_estimated": estimated, "projected_utilization": _projected(peak.iops, iops),
                            "risk": None})
            if source == "io2" and volume_type == "gp3":
                options[-1]["note"] = IO2_DURABILITY_NOTE
        options.sort(key=lambda o: o["monthly_cost"])
        for rank, option in enumerate(options, 1):
            option["rank"] = rank
        best = options[0]
        notes = ["Elastic Volumes changes type, IOPS and throughput in place, without detaching the volume; "
                 "the next change to the same volume must wait 6 hours."]
        if source == "io2" and best["volume_type"] == "gp3":
            notes.append(IO2_DURABILITY_NOTE)
        if multi_attach:
            notes.append(MULTI_ATTACH_NOTE)
        notes += [f"Censored peak: {dimension} reached {value:,.0f} of the volume's {cap:,.0f} limit in its busiest "
                  "minute, so the need is at least the limit: it is sized at the limit plus headroom, and the "
                  "finding is at most medium confidence." for dimension, value, cap in censored]
        out[rid] = Proposal(
            target=best["volume_type"], cost_after=best["monthly_cost"], options=options,
            projected=best["projected_utilization"], price_estimated=best["price_estimated"],
            demand={"iops_peak": _round(peak.iops), "throughput_peak_mibps": _round(peak.mibps)},
            evidence={"volume": {"type": source, "size_gib": size, "iops": _round(row["iops"]),
                                 "throughput_mibps": _round(row["throughput_mibps"]),
                                 "gp2_baseline_iops": _gp2_baseline(size) if source == "gp2" else None,
                                 "burst_balance_min": _round(row["burst_balance_min"]),
                                 "multi_attach": multi_attach,
                                 "iops_cap": _round(caps[0]), "throughput_cap_mibps": _round(caps[1]),
                                 "censored": [dimension for dimension, _, _ in censored]},
                      "target_volume": {k: best[k] for k in ("volume_type", "iops", "throughput_mibps")}},
            notes=notes, confidence_cap=MEDIUM if censored else 1.0,
        )
    return out


@dataclass(frozen=True)
class Peak:
    """The busiest minute's IOPS and MiB/s (NaN: not observed)."""

    iops: float
    mibps: float

    def censored(self, caps: tuple[float, float]) -> list[tuple[str, float, float]]:
        """(dimension, peak, cap) of each dimension whose peak sat at the volume's cap."""
        return [(name, value, cap) for name, value, cap in (("IOPS", self.iops, caps[0]), ("MiB/s", self.mibps,
                                                                                             caps[1]))
                if pd.notna(value) and pd.notna(cap) and cap > 0 and value >= CENSORED_AT * cap]

    def need(self, caps: tuple[float, float], censored: list[tuple[str, float, float]]) -> Peak:
        """The peak, raised to the cap where it is censored (the need is at least the cap)."""
        at_cap = {name for name, _, _ in censored}
        return Peak(max(self.iops, caps[0]) if "IOPS" in at_cap else self.iops,
                    max(self.mibps, caps[1]) if "MiB/s" in at_cap else self.mibps)


def _caps(source: str, size: float, iops: float, mibps: float) -> tuple[float, float]:
    """(IOPS, MiB/s) the volume can deliver now; NaN where unknown. A gp2 volume under 1,000 GiB bursts to 3,000."""
    if source == "gp2":
        baseline = _gp2_baseline(size)
        burst = GP2_BURST_IOPS if size < GP2_BURST_BELOW_GIB else baseline
        return max(baseline, burst), GP2_SMALL_MIBPS if size <= GP2_SMALL_GIB else GP2_LARGE_MIBPS
    if source == "gp3":
        return (iops if pd.notna(iops) else GP3_INCLUDED_IOPS), (mibps if pd.notna(mibps) else GP3_INCLUDED_MIBPS)
    if source in ("io1", "io2"):
        return iops, mibps
    return np.nan, np.nan


def _gp3_limits(ctx: ActionContext, t: VolumeParameters) -> tuple[float, float]:
    """gp3's IOPS and MiB/s limits: the rule's, else the catalog's (80,000 and 2,000)."""
    row = ctx.catalog.ebs[ctx.catalog.ebs["volume_type"] == "gp3"]
    listed = (float(row["max_iops"].max()), float(row["max_mibps"].max())) if not row.empty else (np.nan, np.nan)
    return (t.gp3_max_iops or listed[0]), (t.gp3_max_mibps or listed[1])


def _flag(value: Any) -> bool:
    """True for a true flag however a source wrote it (True, 1, "true", "yes")."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value is not None and not pd.isna(value) and bool(value)


def delete_volume(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    return {rid: Proposal(target="delete", cost_after=0.0,
                          notes=["Take a snapshot first if the data may be needed (snapshots are billed per GB "
                                 "of data stored, usually far less than the volume)."],
                          evidence={"volume": {"type": row["volume_type"], "size_gib": _round(row["size_gib"]),
                                               "attached": bool(row["attached"]), "state": row["state"]}},
                          confidence=0.9 if not row["attached"] else None)
            for rid, row in resources(rows)}


def _gp3(size: float, source: str, peak_iops: float, peak_mibps: float, t: VolumeParameters,
         limits: tuple[float, float]) -> tuple[float, float] | None:
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
    if iops > limits[0] or mibps > limits[1] or iops > GP3_IOPS_PER_GIB * size:
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
