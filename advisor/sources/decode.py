"""One record batch of a metrics file as integer codes and numbers, with the file source's reading of each cell.

Text columns are dictionary-encoded, so a batch's distinct values are read once, with the same functions the
whole-frame reader applied to every cell (``_text``, ``domains.blank``, ``pd.to_numeric``, ``pd.to_datetime``):
a cell means what it always meant, and a million rows of twelve thousand distinct timestamps parse twelve thousand
strings. Numbers use pyarrow's parser when every distinct text of the batch is a plain number (it gives the same
doubles as pandas'), else pandas' own. A column of another type is read through pandas, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from advisor.sources import domains

METRIC_NAMES = tuple(sorted(domains.METRIC_NAMES))
PERCENT = np.array([m in domains.PERCENT_NAMES for m in METRIC_NAMES])
_LOW = np.array([domains.metric_range(m)[0] for m in METRIC_NAMES] + [domains.metric_range("")[0]])
_HIGH = np.array([domains.metric_range(m)[1] for m in METRIC_NAMES] + [domains.metric_range("")[1]])
STAT_CHOICES = ("avg", "max")
STAT_VALUES = np.array([None, *STAT_CHOICES], dtype=object)  # by code: 0 blank, 1 avg, 2 max
TimeUnit = Literal["s", "ms", "us", "ns"]
NOT_LISTED = -1  # resource code of an id the inventory does not list
REFUSED = -2  # resource code of an id the inventory lists but refused (a bad value in its row)


def text(series: pd.Series) -> pd.Series:
    """Cells as the text the checks compare (missing values as "")."""
    return series.astype(object).where(series.notna(), "").astype(str)


class Distinct:
    """A column as each row's index into its distinct values (read as pandas reads them only when asked)."""

    def __init__(self, column: pa.Array) -> None:
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        dictionary, indices = column.dictionary, column.indices
        if indices.null_count:  # a null is one more distinct value, last
            self.index = pc.fill_null(indices, len(dictionary)).to_numpy()
            dictionary = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
        else:
            self.index = indices.to_numpy()
        self.arrow: pa.Array = dictionary
        self._values: pd.Series | None = None

    @property
    def values(self) -> pd.Series:
        """Every distinct value as pandas holds a cell (NaN for a null)."""
        if self._values is None:
            self._values = self._pandas(self.arrow)
        return self._values

    def take(self, positions: np.ndarray) -> pd.Series:
        return self._pandas(self.arrow.take(pa.array(positions, type=pa.int64())))

    def text(self) -> np.ndarray:
        """:func:`text` of every distinct value."""
        if pa.types.is_string(self.arrow.type) and not self.arrow.null_count:
            return self.arrow.to_numpy(zero_copy_only=False)  # already the text
        return text(self.values).to_numpy()

    @staticmethod
    def _pandas(values: pa.Array) -> pd.Series:
        out = pd.Series(values.to_numpy(zero_copy_only=False), dtype=object)
        return out.where(out.notna(), np.nan) if values.null_count else out


@dataclass
class Decoded:
    """A batch's rows: which resource, metric, time, value and stat, and what is wrong with each."""

    first: int  # position of the batch's first row in the file (0-based)
    batch: pa.RecordBatch  # the raw cells, for messages
    rid: np.ndarray  # int32 position in the inventory's ids, NOT_LISTED or REFUSED
    rid_names: np.ndarray  # the ids' text, by ``rid_index``
    rid_index: np.ndarray
    metric: np.ndarray  # int8 position in METRIC_NAMES, -1 for a name that is not a metric
    metric_text: np.ndarray  # per row's distinct index: the metric's text
    metric_index: np.ndarray
    stamp: np.ndarray  # int64 in the file's time unit
    bad_stamp: np.ndarray  # not a date
    value: np.ndarray  # float64, NaN where empty or not a number
    empty: np.ndarray
    stat: np.ndarray | None  # int8 0 blank, 1 avg, 2 max, -1 anything else; None without a stat column

    def __len__(self) -> int:
        return len(self.rid)

    def checks(self) -> dict[str, np.ndarray]:
        """Per field, the rows whose value is outside its domain, in the order a row is judged."""
        with np.errstate(invalid="ignore"):
            return {
                "metric": self.metric < 0,
                "timestamp": self.bad_stamp,
                "stat": np.zeros(len(self), dtype=bool) if self.stat is None else self.stat < 0,
                "value": ~self.empty & (~np.isfinite(self.value) | (self.value < _LOW[self.metric])
                                        | (self.value > _HIGH[self.metric])),
            }

    def all_good(self) -> bool:
        """True when :meth:`checks` would find no row outside its domain, tested per run of one metric (the
        value's smallest and largest there against its bounds) rather than row by row. False says only "maybe"."""
        if not len(self):
            return True
        if (self.metric < 0).any() or self.bad_stamp.any() or (self.stat is not None and (self.stat < 0).any()):
            return False
        # an empty cell is NaN: any other NaN is a value that is not a number
        if np.count_nonzero(np.isnan(self.value)) != np.count_nonzero(self.empty):
            return False
        runs = np.flatnonzero(np.r_[True, self.metric[1:] != self.metric[:-1]])
        with np.errstate(invalid="ignore"):
            low, high = np.fmin.reduceat(self.value, runs), np.fmax.reduceat(self.value, runs)
            metric = self.metric[runs]
            empty = np.isnan(low)  # a run of empty cells only
            return bool(((empty | ((low >= _LOW[metric]) & (high <= _HIGH[metric]) & np.isfinite(low)
                                   & np.isfinite(high)))).all())

    def cell(self, column: str, row: int) -> object:
        """The raw cell as the whole-frame reader held it (for a message)."""
        return self.batch.column(column).slice(row, 1).to_pandas().iat[0]

    def reason(self, column: str, row: int) -> str:
        raw = domains.show(self.cell(column, row))
        if column == "metric":
            return f"unknown metric {raw} (expected one of {', '.join(sorted(domains.METRIC_NAMES))})"
        if column == "timestamp":
            return f"{raw} is not an ISO 8601 date"
        if column == "stat":
            return f"unknown value {raw} (expected one of {', '.join(STAT_CHOICES)})"
        if not np.isfinite(self.value[row]):
            return f"{raw} is not a finite number"
        metric = self.metric_text[self.metric_index[row]]
        return f"{metric} {raw} is outside {domains.describe_range(metric)}"


def time_unit(column: pa.DataType) -> TimeUnit:
    """The unit samples are kept in: the file's own for a timestamp column, else microseconds (pandas' unit for
    parsed text, years 1 to 9999)."""
    return column.unit if pa.types.is_timestamp(column) else "us"


class TimeParser:
    """Text timestamps parsed as ``pd.to_datetime`` parses them, each distinct text once per file (a bounded
    cache: a file has a few thousand distinct times, read a million rows at a time)."""

    LIMIT = 1_000_000
    _NOT_A_DATE = np.iinfo(np.int64).min  # NaT's integer: no date has it

    def __init__(self, unit: TimeUnit) -> None:
        self.unit = unit
        self._known: dict[str, int] = {}  # text -> time in ``unit`` (or _NOT_A_DATE)

    def __call__(self, distinct: Distinct) -> tuple[np.ndarray, np.ndarray]:
        """Each distinct value's time and whether it is not a date."""
        names = distinct.values.tolist()
        if not all(isinstance(n, str) for n in names):  # a null, or values that are not text: parse them all
            return self._parse(names)
        new = [n for n in names if n not in self._known]
        if new:
            if len(self._known) + len(new) > self.LIMIT:
                self._known.clear()
            stamps, missing = self._parse(new)
            self._known.update(zip(new, np.where(missing, self._NOT_A_DATE, stamps).tolist(), strict=True))
        found = np.array([self._known[n] for n in names], dtype=np.int64)
        return found, found == self._NOT_A_DATE

    def _parse(self, names: list) -> tuple[np.ndarray, np.ndarray]:
        parsed = pd.to_datetime(pd.Series(names, dtype=object), utc=True, errors="coerce", format="ISO8601")
        return pd.DatetimeIndex(parsed).as_unit(self.unit).asi8, parsed.isna().to_numpy()


def decode(batch: pa.RecordBatch, first: int, ids: pd.Index, refused: set[str], times: TimeParser) -> Decoded:
    rid = Distinct(batch.column("resource_id"))
    rid_text = rid.text()
    codes = ids.get_indexer(pd.Index(rid_text))
    if refused:
        codes = np.where(pd.Index(rid_text).isin(refused), REFUSED, codes)
    metric = Distinct(batch.column("metric"))
    metric_text = metric.text()
    metric_codes = pd.Index(METRIC_NAMES).get_indexer(pd.Index(metric_text))
    stamp, bad_stamp = _stamps(batch.column("timestamp"), times)
    value, empty = _values(batch.column("value"))
    stat = _stats(batch.column("stat")) if "stat" in batch.schema.names else None
    return Decoded(first, batch, codes.astype(np.int32)[rid.index], rid_text, rid.index,
                   metric_codes.astype(np.int8)[metric.index], metric_text, metric.index, stamp, bad_stamp, value,
                   empty, stat)


def _stamps(column: pa.Array, times: TimeParser) -> tuple[np.ndarray, np.ndarray]:
    if pa.types.is_timestamp(column.type):  # stored as UTC instants; a naive one is read as UTC
        missing = column.is_null().to_numpy(zero_copy_only=False)
        return pc.fill_null(column.cast(pa.int64()), 0).to_numpy(), missing
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or \
            pa.types.is_dictionary(column.type):
        distinct = Distinct(column)
        stamps, missing = times(distinct)
        return stamps[distinct.index], missing[distinct.index]
    unit = times.unit
    series = column.to_pandas()
    parsed = series.dt.tz_localize("UTC") if pd.api.types.is_datetime64_any_dtype(series) and series.dt.tz is None \
        else series.dt.tz_convert("UTC") if pd.api.types.is_datetime64_any_dtype(series) \
        else pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    return pd.DatetimeIndex(parsed).as_unit(unit).asi8, parsed.isna().to_numpy()


def _values(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Numbers (NaN where empty or not a number) and which cells are empty."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_float64(kind):
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        return values, np.isnan(values)  # a missing float64 is NaN to pandas: an empty cell
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or (
            pa.types.is_dictionary(kind) and (pa.types.is_string(kind.value_type)
                                              or pa.types.is_large_string(kind.value_type))):
        distinct = Distinct(column)
        numbers, blank = _numbers(distinct)
        return numbers[distinct.index], blank[distinct.index]
    series = column.to_pandas()  # what pandas made of any other type, read as before
    empty = series.map(domains.blank).to_numpy(dtype=bool)
    return pd.to_numeric(series.where(~empty, np.nan), errors="coerce").to_numpy(dtype=float), empty


def _numbers(distinct: Distinct) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct text's number (NaN if blank or not a number) and whether it is blank."""
    arrow = distinct.arrow
    maybe_blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arrow), ""), True).to_numpy(zero_copy_only=False)
    try:
        numbers = pc.cast(pc.if_else(maybe_blank, "0", arrow), pa.float64()).to_numpy(zero_copy_only=False).copy()
        numbers[maybe_blank] = np.nan
    except pa.ArrowInvalid:  # some text pyarrow does not read as a number: pandas' parser decides
        numbers = pd.to_numeric(distinct.values, errors="coerce").to_numpy(dtype=float)
    candidates = np.flatnonzero(np.isnan(numbers))
    blank = np.zeros(len(numbers), dtype=bool)
    blank[candidates] = [domains.blank(v) for v in distinct.take(candidates)]
    recheck = candidates[maybe_blank[candidates] & ~blank[candidates]]  # blank to pyarrow, not to Python
    if len(recheck):
        numbers[recheck] = pd.to_numeric(distinct.take(recheck), errors="coerce").to_numpy(dtype=float)
    return numbers, blank


def _stats(column: pa.Array) -> np.ndarray:
    distinct = Distinct(column)
    blank = distinct.values.map(domains.blank).to_numpy(dtype=bool)
    named = text(distinct.values)
    codes = np.where(blank, 0, np.where(named == "avg", 1, np.where(named == "max", 2, -1)))
    return codes.astype(np.int8)[distinct.index]
