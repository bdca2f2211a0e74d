"""The bundled demo fleet: a fixed, offline inventory and 14 days of metrics built from real public traces.

``tools/build_demo.py`` writes ``advisor/data/demo/{inventory,metrics}.parquet`` (see the README beside them for
which trace each resource came from). The metrics file is stored compactly and decoded here:

* ``resource_id`` and ``metric`` are dictionary-encoded strings;
* ``minute`` is an int32 count of minutes since :data:`DEMO_START`;
* ``code`` is a uint16: hundredths for percent metrics, ``round(log1p(value) * LOG_SCALE)`` for the others
  (a relative step of 1/2800, about 0.04 %, up to about 1.4e10).

:func:`load_demo` returns the canonical frames, already passed through ``normalize_inventory`` and
``normalize_metrics``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from advisor.model import PERCENT_METRICS, normalize_inventory, normalize_metrics
from advisor.resources import data_path

DEMO_START = pd.Timestamp("2026-11-02T00:00:00Z")
DEMO_DAYS = 14
DEMO_END = DEMO_START + pd.Timedelta(days=DEMO_DAYS)
PERIOD_MINUTES = 5

PERCENT_SCALE = 100.0  # percent metrics are stored in hundredths
LOG_SCALE = 2800.0  # other metrics are stored as round(log1p(value) * LOG_SCALE)

_PERCENT_NAMES = frozenset(m.value for m in PERCENT_METRICS)


def demo_dir() -> Path:
    """Directory of the bundled demo files."""
    return data_path("demo")


def is_percent(metric_names: np.ndarray) -> np.ndarray:
    """Boolean mask: which metric names are stored as hundredths of a percent."""
    return np.isin(metric_names.astype(str), list(_PERCENT_NAMES))


def encode_values(percent: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Encode canonical values (non-negative; percent ones within 0-100) as uint16 codes."""
    values = np.asarray(values, dtype=np.float64)
    if (values < 0).any() or not np.isfinite(values).all():
        raise ValueError("demo values must be finite and non-negative")
    codes = np.where(percent, np.rint(values * PERCENT_SCALE), np.rint(np.log1p(values) * LOG_SCALE))
    if codes.max(initial=0) > np.iinfo(np.uint16).max:
        raise ValueError("a demo value is too large for its uint16 code")
    return codes.astype(np.uint16)


def decode_values(percent: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Inverse of :func:`encode_values`."""
    codes = np.asarray(codes, dtype=np.float64)
    return np.where(percent, codes / PERCENT_SCALE, np.expm1(codes / LOG_SCALE))


def load_demo(directory: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the demo fleet as canonical (inventory, metrics) frames."""
    folder = Path(directory) if directory is not None else demo_dir()
    inventory = normalize_inventory(pq.read_table(folder / "inventory.parquet").to_pandas(), "demo inventory")

    table = pq.read_table(folder / "metrics.parquet", read_dictionary=["resource_id", "metric"])
    resource_id = table.column("resource_id").combine_chunks()
    metric = table.column("metric").combine_chunks()
    metric_index = metric.indices.to_numpy()
    percent = is_percent(np.asarray(metric.dictionary.to_pylist(), dtype=object))[metric_index]
    minutes = table.column("minute").to_numpy().astype("timedelta64[m]")
    start = np.datetime64(DEMO_START.tz_localize(None).as_unit("ns"))
    metrics = pd.DataFrame({
        # plain strings, decoded in Arrow: normalize_metrics keeps them as they are
        "resource_id": pd.Series(resource_id.dictionary.take(resource_id.indices), dtype="str"),
        "metric": pd.Categorical.from_codes(metric_index, categories=metric.dictionary.to_pylist()),
        "timestamp": pd.DatetimeIndex(start + minutes).tz_localize("UTC"),
        "value": decode_values(percent, table.column("code").to_numpy()),
    })
    return inventory, normalize_metrics(metrics, "demo metrics")
