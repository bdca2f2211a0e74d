"""What a drill-down chart draws besides the samples: the target's capacity and the forecast, per metric.

Capacities are drawn on the current scale (100 % = the current instance): a target with 8 vCPUs where there are
32 sits at 25 %. The catalog-backed current capacity comes from the evidence (``capacity``) or the features row,
the target's from its option (``vcpus``, ``memory_gib``; ``gpus``, ``gpu_memory_gib`` where an option states
them). A dimension the option does not state gets no line: a GPU of another model is not a fraction of the
current one, and the options table gives its projected utilization instead.

The forecast is the trend fitted on daily peaks, drawn from the end of the data window over the horizon: it ends
at ``{m}_forecast`` and rises by ``{m}_trend_used`` per day (0 when no rise is clear); its band reaches
``{m}_upper`` (the forecast plus the recurring weekly peak). ``{m}_demand`` is what sizing used.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from advisor.report.encoding import number
from advisor.results import Capacity, Option

CAPACITY = {"cpu": ("vcpus", "vCPUs"), "memory": ("memory_gib", "GiB"), "gpu": ("gpus", "GPUs"),
            "gpu_memory": ("gpu_memory_gib", "GiB GPU memory")}
FORECAST_COLUMNS = tuple(f"{m}_{c}" for m in CAPACITY for c in ("trend_used", "forecast", "upper", "demand"))
SPEC_COLUMNS = tuple(key for key, _ in CAPACITY.values())


def feature_rows(features: pd.DataFrame, resource_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The spec and forecast columns of the given resources, as plain dicts (missing columns left out)."""
    columns = [c for c in (*SPEC_COLUMNS, *FORECAST_COLUMNS) if c in features.columns]
    if not columns or features.empty:
        return {}
    frame = features.set_index("resource_id") if "resource_id" in features.columns else features
    frame = frame[columns]
    frame = frame[~frame.index.duplicated()].reindex(pd.unique(pd.Series(resource_ids, dtype=object)))
    return {str(resource_id): {str(column): value for column, value in row.items()}
            for resource_id, row in frame.to_dict("index").items()}


def target_lines(capacity: Capacity, target: Option | None, current: str,
                 features: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per metric: where the target's capacity sits in % of the current one, and a label saying so."""
    if target is None or not target.instance_type or target.instance_type == current:
        return {}
    stated = capacity.model_dump(exclude_none=True)
    offered = {"vcpus": target.vcpus, "memory_gib": target.memory_gib, "gpus": target.gpus,
               "gpu_memory_gib": target.gpu_memory_gib}
    lines = {}
    for metric, (key, unit) in CAPACITY.items():
        now, after = number(stated.get(key, features.get(key))), number(offered[key])
        if not now or after is None:
            continue
        percent = after / now * 100
        lines[metric] = {"percent": round(percent, 2),
                         "label": f"target {target.instance_type}: {after:.3g} of {now:.3g} {unit} "
                                  f"({percent:.0f} % of current)"}
    return lines


def forecast_lines(features: dict[str, Any], horizon_days: float) -> dict[str, dict[str, Any]]:
    """Per metric: the forecast from the window's end to the horizon, its band's top, and the sizing demand."""
    out = {}
    for metric in CAPACITY:
        end, upper = number(features.get(f"{metric}_forecast")), number(features.get(f"{metric}_upper"))
        if end is None or upper is None:
            continue
        start = end - (number(features.get(f"{metric}_trend_used")) or 0.0) * horizon_days
        bump = max(upper - end, 0.0)
        out[metric] = {"forecast": [number(start), number(end)], "upper": [number(start + bump), number(upper)],
                       "demand": number(features.get(f"{metric}_demand"))}
    return out
