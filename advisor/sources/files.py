"""The file source (a public, stable contract; see README "File source format").

A directory with ``inventory.csv`` (or ``inventory.parquet``) and ``metrics.csv`` (or ``metrics.parquet``) in the
shapes of DESIGN §2. Tags may be a JSON object or ``key=value;key=value`` text.

Whoever wrote the export is not trusted: a file that cannot be read at all is one clear error (exit code 2), and
a row whose value is outside its field's domain (``advisor.sources.domains``) rejects only its own resource, with
a reason naming the file, the row and the field. Samples dated outside the analysis window (given, else the span
of the bulk of the data) are dropped and counted.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.errors import ConfigError, SourceError
from advisor.model import INVENTORY_COLUMNS, METRICS_COLUMNS, SKIPPED_COLUMNS, normalize_inventory, normalize_metrics
from advisor.sources import domains

# The bulk of the data: samples between these quantiles of time, widened by their span on each side.
BULK_QUANTILES = (0.01, 0.99)
STAT_CHOICES = ("avg", "max")


@dataclass
class FileData:
    inventory: pd.DataFrame
    metrics: pd.DataFrame
    rejected: pd.DataFrame  # SKIPPED_COLUMNS: resources whose rows break their field's domain
    problems: list[str] = field(default_factory=list)  # rows ignored, samples dropped, with counts
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None


def _find(directory: Path, stem: str) -> Path:
    for suffix in (".parquet", ".csv", ".csv.gz"):
        candidate = directory / f"{stem}{suffix}"
        if candidate.is_dir():
            raise SourceError(f"{candidate}: is a directory, not a file")
        if candidate.is_file():
            return candidate
    raise SourceError(f"{directory}: no {stem}.csv or {stem}.parquet found")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def _read(path: Path) -> pd.DataFrame:
    """The file as a frame of raw values (CSV: all text, empty cells ""), or one SourceError naming the problem."""
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises a zoo of types for truncated or foreign files
            raise SourceError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from exc
        return frame.reset_index(drop=True)
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"{path}: cannot be read ({_first_line(exc)})") from exc
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Excel's "CSV UTF-8") is accepted
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); export it as "
                          "UTF-8") from exc
    if not text.strip():
        raise SourceError(f"{path}: the file is empty (expected a header line and rows)")
    header = text.splitlines()[0]
    if "," not in header:
        for separator, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if separator in header:
                raise SourceError(f"{path}: columns are separated by {name}; the file source expects commas")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise SourceError(f"{path}: malformed CSV ({_first_line(exc)})") from exc


class _Rejections:
    """Reasons per resource id (the first problem found wins) and the rows ignored outright."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 2 if path.suffix != ".parquet" else 1  # CSV row numbers count the header as row 1
        self.reasons: dict[str, str] = {}

    def row(self, index: int) -> int:
        return int(index) + self.offset

    def reject(self, resource_id: str, index: int, column: str, why: str) -> None:
        self.reasons.setdefault(resource_id, f"{self.path.name} row {self.row(index)}, field {column}: {why}")


def _volume_types() -> tuple[str, ...]:
    from advisor.catalog import load_catalog

    return tuple(sorted(load_catalog().ebs["volume_type"].unique()))


def _check_inventory(frame: pd.DataFrame, path: Path, problems: list[str]) -> tuple[pd.DataFrame, _Rejections]:
    """The inventory with every value checked and typed; the rows of rejected resources are dropped."""
    missing = [c for c in ("resource_id", "kind", "region") if c not in frame.columns]
    if missing:
        raise SourceError(f"{path}: missing required column(s) {', '.join(missing)}")
    rejections = _Rejections(path)
    ids = [None if domains.blank(v) else str(v) for v in frame["resource_id"]]
    blank_rows = [rejections.row(i) for i, rid in enumerate(ids) if rid is None]
    if blank_rows:
        problems.append(f"{path.name}: {len(blank_rows)} row(s) with an empty resource_id ignored (row "
                        f"{', '.join(map(str, blank_rows[:5]))})")
    seen: dict[str, int] = {}
    for index, rid in enumerate(ids):
        if rid is None:
            continue
        if rid in seen:
            rejections.reasons[rid] = (f"{path.name} rows {rejections.row(seen[rid])} and {rejections.row(index)}: "
                                       f"resource_id {rid!r} appears more than once")
        seen.setdefault(rid, index)
    columns = [str(c) for c in INVENTORY_COLUMNS if c in frame.columns]
    volume_types = _volume_types()
    rows = []
    for index, row in enumerate(frame.loc[:, columns].to_dict("records")):
        rid = ids[index]
        if rid is None:
            continue
        typed: dict[str, object] = {}
        for column in columns:
            typed[column], why = _check_cell(column, row[column], row, volume_types)
            if why:
                rejections.reject(rid, index, column, why)
        rows.append(typed | {"resource_id": rid})
    out = pd.DataFrame(rows, columns=columns)
    return out[~out["resource_id"].isin(rejections.reasons)].reset_index(drop=True), rejections


def _check_cell(column: str, value: object, row: dict, volume_types: tuple[str, ...]) -> tuple[object, str | None]:
    if column in ("kind", "region") and domains.blank(value):
        return None, "empty (required)"
    if column in domains.INVENTORY_NUMBERS:
        return domains.check_number(value, domains.INVENTORY_NUMBERS[column])
    if column in domains.INVENTORY_BOOLEANS:
        return domains.check_boolean(value)
    choices = domains.inventory_choices(column)
    if choices is not None:
        return domains.check_choice(value, choices)
    if column == "volume_type" and row.get("kind") == "ebs_volume" and not domains.blank(value):
        return domains.check_choice(str(value).strip().lower(), volume_types)
    if column == "tags":
        return domains.check_tags(value)
    if column == "instance_groups":
        return domains.check_instance_groups(value)
    return (None if domains.blank(value) else str(value)), None


def _check_metrics(frame: pd.DataFrame, path: Path, inventory_ids: set[str], rejected: _Rejections,
                   problems: list[str], start: pd.Timestamp | None,
                   end: pd.Timestamp | None) -> tuple[pd.DataFrame, tuple[pd.Timestamp, pd.Timestamp] | None]:
    """Typed samples of the accepted resources inside the window; rejections added to ``rejected``."""
    missing = [c for c in METRICS_COLUMNS if c not in frame.columns]
    if missing:
        raise SourceError(f"{path}: missing required column(s) {', '.join(missing)}")
    rows = _Rejections(path)
    frame = frame.loc[:, [c for c in (*METRICS_COLUMNS, "stat") if c in frame.columns]].reset_index(drop=True)
    rid = _text(frame["resource_id"])
    known = rid.isin(inventory_ids).to_numpy()
    unknown = ~known & ~rid.isin(rejected.reasons).to_numpy()
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        problems.append(f"{path.name}: {int(unknown.sum())} sample(s) of {rid[unknown].nunique()} resource id(s) not "
                        f"in the inventory ignored (first: {rid.iat[first]!r} on row {rows.row(first)})")
    metric = _text(frame["metric"])
    timestamps = _as_utc(frame["timestamp"]) if pd.api.types.is_datetime64_any_dtype(frame["timestamp"]) else \
        pd.to_datetime(frame["timestamp"], utc=True, errors="coerce", format="ISO8601")
    empty = frame["value"].map(domains.blank).to_numpy(dtype=bool)
    values = pd.to_numeric(frame["value"].where(~empty, np.nan), errors="coerce").to_numpy(dtype=float)
    low = metric.map(lambda m: domains.metric_range(m)[0]).to_numpy(dtype=float)
    high = metric.map(lambda m: domains.metric_range(m)[1]).to_numpy(dtype=float)
    stat_bad = np.zeros(len(frame), dtype=bool)
    if "stat" in frame.columns:
        stat = frame["stat"]
        stat_bad = (~stat.map(domains.blank) & ~_text(stat).isin(STAT_CHOICES)).to_numpy()
    with np.errstate(invalid="ignore"):
        checks = {  # in the order a row is judged: the first failing field is the one named
            "metric": ~metric.isin(domains.METRIC_NAMES).to_numpy(),
            "timestamp": timestamps.isna().to_numpy(),
            "stat": stat_bad,
            "value": ~empty & (~np.isfinite(values) | (values < low) | (values > high)),
        }
    bad = known & np.logical_or.reduce(list(checks.values()))
    for index in pd.Series(np.flatnonzero(bad)).groupby(rid.to_numpy()[bad], sort=False).first():
        column = next(name for name, failed in checks.items() if failed[index])
        reason = _sample_reason(frame, index, column, str(metric.iat[index]), values)
        rows.reject(str(rid.iat[index]), index, column, reason)
    for resource_id, reason in rows.reasons.items():
        rejected.reasons.setdefault(resource_id, reason)
    accepted = known & ~rid.isin(rejected.reasons).to_numpy()
    if (accepted & empty).any():
        problems.append(f"{path.name}: {int((accepted & empty).sum())} sample(s) with an empty value ignored")
    out = pd.DataFrame({"resource_id": rid, "metric": metric, "timestamp": timestamps, "value": values})
    if "stat" in frame.columns:
        out["stat"] = frame["stat"].where(~frame["stat"].map(domains.blank).to_numpy(dtype=bool), None)
    out = out[accepted & ~empty]
    percent = out["metric"].isin(domains.PERCENT_NAMES)
    out.loc[percent, "value"] = out.loc[percent, "value"].clip(0, 100)
    window = _window(out["timestamp"], start, end)
    if window is not None:
        inside = out["timestamp"].between(*window).to_numpy()
        if not inside.all():
            first = int(out.index[~inside][0])
            problems.append(f"{path.name}: {int((~inside).sum())} sample(s) dated outside the analysis window "
                            f"{window[0]:%Y-%m-%d %H:%M} to {window[1]:%Y-%m-%d %H:%M} UTC dropped (first on row "
                            f"{rows.row(first)}: {domains.show(frame['timestamp'].iat[first])})")
            out = out[inside]
    duplicated = out.duplicated(subset=[c for c in ("resource_id", "metric", "timestamp", "stat") if c in out])
    if duplicated.any():
        problems.append(f"{path.name}: {int(duplicated.sum())} repeated sample(s) (same resource, metric and time) "
                        "ignored")
        out = out[~duplicated.to_numpy()]
    return out.reset_index(drop=True), window


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def _as_utc(series: pd.Series) -> pd.Series:
    return series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")


def _sample_reason(frame: pd.DataFrame, index: int, column: str, metric: str, values: np.ndarray) -> str:
    raw = domains.show(frame[column].iat[index])
    if column == "metric":
        return f"unknown metric {raw} (expected one of {', '.join(sorted(domains.METRIC_NAMES))})"
    if column == "timestamp":
        return f"{raw} is not an ISO 8601 date"
    if column == "stat":
        return f"unknown value {raw} (expected one of {', '.join(STAT_CHOICES)})"
    if not np.isfinite(values[index]):
        return f"{raw} is not a finite number"
    return f"{metric} {raw} is outside {domains.describe_range(metric)}"


def _window(timestamps: pd.Series, start: pd.Timestamp | None,
            end: pd.Timestamp | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The given bounds, else the bulk of the data: its central quantiles widened by their own span each way
    (a stray row dated 1900 or 9999 cannot stretch the window to centuries)."""
    if timestamps.empty:
        return (start, end) if start is not None and end is not None else None
    seconds = timestamps.dt.as_unit("s").astype("int64").to_numpy(dtype=float)  # years 1 to 9999 fit
    low_q, high_q = np.quantile(seconds, BULK_QUANTILES)
    span = max(high_q - low_q, 86_400.0)
    lo = start if start is not None else timestamps[seconds >= low_q - span].min()
    hi = end if end is not None else timestamps[seconds <= high_q + span].max()
    return lo, hi


def _rejected_frame(inventory: pd.DataFrame, rejections: _Rejections) -> pd.DataFrame:
    by_id = {str(r["resource_id"]): r for r in inventory.to_dict("records") if not domains.blank(r["resource_id"])}
    rows = []
    for rid, reason in rejections.reasons.items():
        raw = by_id.get(rid, {})
        name = raw.get("name")
        rows.append((rid, None if domains.blank(raw.get("kind")) else str(raw.get("kind")),
                     None if domains.blank(raw.get("region")) else str(raw.get("region")),
                     rid if domains.blank(name) else str(name), reason))
    return pd.DataFrame(rows, columns=list(SKIPPED_COLUMNS))


def load_files(directory: str | Path, start: datetime | None = None, end: datetime | None = None) -> FileData:
    """Read and check the export; ``start``/``end`` bound the analysis window (else the bulk of the data)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceError(f"{directory}: not a directory (expected inventory.csv and metrics.csv inside)")
    lo, hi = (None if t is None else pd.Timestamp(t) for t in (start, end))
    if lo is not None and hi is not None and lo >= hi:
        raise ConfigError(f"--start {lo:%Y-%m-%d %H:%M} is not before --end {hi:%Y-%m-%d %H:%M}")
    inventory_path, metrics_path = _find(directory, "inventory"), _find(directory, "metrics")
    problems: list[str] = []
    raw_inventory = _read(inventory_path)
    checked, rejections = _check_inventory(raw_inventory, inventory_path, problems)
    raw_metrics = _read(metrics_path)
    metrics, window = _check_metrics(raw_metrics, metrics_path, set(checked["resource_id"]), rejections, problems,
                                     lo, hi)
    checked = checked[~checked["resource_id"].isin(rejections.reasons)].reset_index(drop=True)
    metrics = metrics[~metrics["resource_id"].isin(rejections.reasons)].reset_index(drop=True)
    inventory = normalize_inventory(checked, origin=str(inventory_path))
    return FileData(inventory, normalize_metrics(metrics, origin=str(metrics_path)),
                    _rejected_frame(raw_inventory, rejections), problems, window)
