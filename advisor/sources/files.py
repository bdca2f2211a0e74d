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
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from advisor.engine import samples as engine_samples
from advisor.engine.samples import Reread, SampleNeeds, SampleSummary
from advisor.errors import ConfigError, SourceError
from advisor.model import INVENTORY_COLUMNS, SKIPPED_COLUMNS, normalize_inventory, normalize_metrics
from advisor.sources import domains
from advisor.sources.batches import first_line
from advisor.sources.decode import TimeUnit
from advisor.sources.metrics_file import MetricsReader, Samples, TimeCounts, bulk_window, in_unit, row_offset
from advisor.sources.reduce import Collector, Reducer, reduce_samples


@dataclass
class FileData:
    inventory: pd.DataFrame
    metrics: pd.DataFrame  # the long frame (empty when reduce_files summarized it)
    rejected: pd.DataFrame  # SKIPPED_COLUMNS: resources whose rows break their field's domain
    problems: list[str] = field(default_factory=list)  # rows ignored, samples dropped, with counts
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    summary: SampleSummary | None = None  # reduce_files: the metrics reduced per series


def _find(directory: Path, stem: str) -> Path:
    for suffix in (".parquet", ".csv", ".csv.gz"):
        candidate = directory / f"{stem}{suffix}"
        if candidate.is_dir():
            raise SourceError(f"{candidate}: is a directory, not a file")
        if candidate.is_file():
            return candidate
    raise SourceError(f"{directory}: no {stem}.csv or {stem}.parquet found")


def _read(path: Path) -> pd.DataFrame:
    """The inventory file as a frame of raw values (CSV: all text, empty cells ""), or one SourceError naming the
    problem."""
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises a zoo of types for truncated or foreign files
            raise SourceError(f"{path}: not a readable Parquet file ({first_line(exc)})") from exc
        return frame.reset_index(drop=True)
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"{path}: cannot be read ({first_line(exc)})") from exc
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
        raise SourceError(f"{path}: malformed CSV ({first_line(exc)})") from exc


class _Rejections:
    """Reasons per resource id (the first problem found wins) and the rows ignored outright."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = row_offset(path)
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


def _open(directory: str | Path, start: datetime | None,
          end: datetime | None) -> tuple[Path, pd.DataFrame, pd.DataFrame, _Rejections, MetricsReader, list[str],
                                         tuple[pd.Timestamp | None, pd.Timestamp | None]]:
    """The checked inventory and a reader of the metrics file."""
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
    reader = MetricsReader(metrics_path, pd.Index(checked["resource_id"]), set(rejections.reasons))
    return inventory_path, raw_inventory, checked, rejections, reader, problems, (lo, hi)


def _finish(inventory_path: Path, raw_inventory: pd.DataFrame, checked: pd.DataFrame, rejections: _Rejections,
            reader: MetricsReader, problems: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    ids = checked["resource_id"].to_numpy()
    for position, reason in reader.reasons.items():
        rejections.reasons.setdefault(str(ids[position]), reason)
    checked = checked[~checked["resource_id"].isin(rejections.reasons)].reset_index(drop=True)
    return (normalize_inventory(checked, origin=str(inventory_path)), _rejected_frame(raw_inventory, rejections),
            [*problems, *reader.problems])


def load_files(directory: str | Path, start: datetime | None = None, end: datetime | None = None) -> FileData:
    """Read and check the export; ``start``/``end`` bound the analysis window (else the bulk of the data).

    The metrics come back as one long frame: memory grows with the samples (see :func:`reduce_files`)."""
    inventory_path, raw_inventory, checked, rejections, reader, problems, (lo, hi) = _open(directory, start, end)
    frame, window, repeated, _ = reduce_samples(reader, Collector, SampleNeeds(), lo, hi)
    reader.repeated_problem(repeated)
    if not isinstance(frame, pd.DataFrame):
        frame = Samples.empty().frame(np.array([], dtype=object), reader.unit)
    inventory, rejected, problems = _finish(inventory_path, raw_inventory, checked, rejections, reader, problems)
    return FileData(inventory, normalize_metrics(frame, origin=str(reader.path)), rejected, problems, window)


def reduce_files(directory: str | Path, needs: SampleNeeds, start: datetime | None = None,
                 end: datetime | None = None) -> FileData:
    """As :func:`load_files`, with the metrics reduced per series while they stream (``FileData.summary``; the
    long frame is left empty): memory grows with the series, not the samples."""
    inventory_path, raw_inventory, checked, rejections, reader, problems, (lo, hi) = _open(directory, start, end)
    summary, window, repeated, days = reduce_samples(reader, Reducer, needs, lo, hi)
    reader.repeated_problem(repeated)
    inventory, rejected, problems = _finish(inventory_path, raw_inventory, checked, rejections, reader, problems)
    assert summary is None or isinstance(summary, SampleSummary)  # of accepted resources only
    if summary is not None and window is not None:
        summary.reread = Reread(days, partial(_samples_of, reader, window))
    empty = normalize_metrics(Samples.empty().frame(np.array([], dtype=object), reader.unit), origin=str(reader.path))
    return FileData(inventory, empty, rejected, problems, window, summary)


def _samples_of(reader: MetricsReader, window: tuple[pd.Timestamp, pd.Timestamp],
                resource_ids: Collection[str]) -> pd.DataFrame:
    """The long frame of these accepted resources' samples over ``window``, read again from the file (the same
    rows :func:`load_files` keeps of them)."""
    only = reader.ids.isin(list(resource_ids)) & ~reader.rejected
    frame, _, _, _ = reduce_samples(reader, Collector, SampleNeeds(), window[0], window[1], only=only)
    if not isinstance(frame, pd.DataFrame):
        frame = Samples.empty().frame(np.array([], dtype=object), reader.unit)
    return normalize_metrics(frame, origin=str(reader.path))


class ScanSink(Protocol):
    """Where a sharded run's scan puts the accepted samples (with their rows: ``Samples.row``): it counts their
    times, and counts them again without the resources rejected after some of their samples were taken."""

    times: TimeCounts

    def reset(self) -> None: ...

    def add(self, samples: Samples, first: int, rows_read: int) -> None: ...

    def recount(self, rejected: np.ndarray) -> TimeCounts: ...


@dataclass
class FileScan:
    """A sharded run's view of an export before its shards read it: the accepted inventory, the refused resources,
    the analysis window and history of the whole file, and where each accepted resource's rows end."""

    data: FileData  # the metrics left empty, window set
    days: float  # the history the window's samples cover (calibration needs three weeks)
    last_rows: dict[str, int]  # resource id -> its last row in the metrics file
    reader: MetricsReader  # to read the samples of a few resources again (calibration)


def scan_files(directory: str | Path, sink_of: Callable[[MetricsReader, pd.DataFrame], ScanSink],
               start: datetime | None = None, end: datetime | None = None) -> FileScan:
    """One pass over the export that judges every row and hands the accepted samples to the sink ``sink_of``
    makes of the reader and the checked inventory (whose rows the reader's ids are), without summarizing them: what
    :func:`reduce_files` would accept, refuse and analyse over."""
    inventory_path, raw_inventory, checked, rejections, reader, problems, (lo, hi) = _open(directory, start, end)
    sink = sink_of(reader, checked)
    reader.with_rows = True
    given = (lo, hi) if lo is not None and hi is not None else None
    reader.read(sink, given)
    # times of rows read before their resource was rejected were counted: count the others again
    times = sink.recount(reader.rejected) if reader.rejected.any() else sink.times
    window = given or bulk_window(times, reader.unit, lo, hi)
    days = 0.0 if window is None else _history_days(times, window, reader.unit)
    ids = checked["resource_id"].to_numpy()
    last_rows = dict(zip(ids.tolist(), reader.last_row.tolist(), strict=True))
    inventory, rejected, problems = _finish(inventory_path, raw_inventory, checked, rejections, reader, problems)
    empty = normalize_metrics(Samples.empty().frame(np.array([], dtype=object), reader.unit), origin=str(reader.path))
    return FileScan(FileData(inventory, empty, rejected, problems, window), days, last_rows, reader)


def _history_days(times: TimeCounts, window: tuple[pd.Timestamp, pd.Timestamp], unit: TimeUnit) -> float:
    """:func:`samples.history_days` of the distinct times inside ``window`` (as :mod:`advisor.sources.reduce`
    counts them)."""
    stamps, _ = times.result()
    low, high = in_unit(window[0], unit, True), in_unit(window[1], unit, False)
    inside = stamps[(stamps >= low) & (stamps <= high)]
    return engine_samples.history_days(pd.Series(pd.DatetimeIndex(inside.view(f"M8[{unit}]")).tz_localize("UTC")))


def reread_of(scan: FileScan) -> Reread:
    """How calibration reads the samples of the resources it replays, from the scanned file."""
    assert scan.data.window is not None
    return Reread(scan.days, partial(_samples_of, scan.reader, scan.data.window))
