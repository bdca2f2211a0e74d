"""A file export split into per-shard Parquet parts by the driver's one scan, so that each shard reads its own rows
only (not the whole export).

The driver's scan (:func:`advisor.sources.files.scan_files`) hands every accepted sample to a :class:`PartsWriter`,
which appends it to the parts of its resource's (account, region), in the store's layout
(``account=<account>/region=<region>/part-<sequence>.parquet``, see :mod:`advisor.store.parts`; names that are not
plain are percent-encoded), each part written atomically and never through a planted link. A part holds the columns
``resource_id`` and ``metric`` (dictionary-encoded text), ``timestamp`` (UTC, in the export's unit), ``value``
(float64, as checked), ``stat`` (int8: 0 blank, 1 avg, 2 max; only when the export has a stat column) and ``row``
(the sample's position in the metrics file), in file order.

A shard's task reads its places' parts (:class:`PartsReader`) through the same streaming reducer as one process
(:func:`advisor.sources.reduce.reduce_samples`), with the file positions the scan noted, so it summarizes exactly
the samples one process would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from advisor.engine import samples as engine_samples
from advisor.engine.samples import SampleNeeds, SampleSummary
from advisor.errors import SourceError
from advisor.sources.batches import BATCH_ROWS, first_line
from advisor.sources.decode import METRIC_NAMES, TimeUnit
from advisor.sources.metrics_file import MetricsReader, Samples, Sink, TimeCounts, in_unit
from advisor.store.parts import LocalParts

PART_ROWS = 1 << 20  # samples per part
HELD_ROWS = 4 << 20  # samples held in memory over all places before the largest place's are written
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SHIFT = 40  # a shard's n-th place's rows count from n << _SHIFT (a file has fewer than 2**40 rows)
_METRICS = pa.array(METRIC_NAMES, type=pa.string())

Window = tuple[pd.Timestamp, pd.Timestamp]
Place = tuple[str, str]


def directory_of(place: Place) -> str:
    """``account=<account>/region=<region>``, each name percent-encoded unless it is plain (letters, digits, ``_``,
    ``-``): any text names one directory, and no name is ``.`` or ``..``."""
    def encoded(text: str) -> str:
        return "".join(c if c in _PLAIN else "".join(f"%{b:02X}" for b in c.encode()) for c in text)

    return f"account={encoded(place[0])}/region={encoded(place[1])}"


class PartsWriter:
    """The scan's sink (:class:`advisor.sources.files.ScanSink`): counts the samples' times and writes them to
    their place's parts under ``root``. ``places``: each of the reader's ids' (account, region)."""

    def __init__(self, reader: MetricsReader, root: Path, places: list[Place]) -> None:
        self.parts = LocalParts(root)
        self.unit: TimeUnit = reader.unit
        self.stat = "stat" in reader.columns
        self.places = sorted(set(places))
        code = {place: index for index, place in enumerate(self.places)}
        self.place_of = np.array([code[place] for place in places], dtype=np.int32)
        self.members = [np.flatnonzero(self.place_of == index) for index in range(len(self.places))]
        self.local = np.zeros(len(places), dtype=np.int32)  # position among its place's resources
        for members in self.members:
            self.local[members] = np.arange(len(members), dtype=np.int32)
        ids = reader.ids.to_numpy()
        self.dictionaries = [pa.array(ids[members].tolist(), type=pa.string()) for members in self.members]
        self.reset()

    def reset(self) -> None:
        """Start again (the reader starts its pass again): the parts written so far are removed."""
        for names in getattr(self, "written", {}).values():
            for name in names:
                self.parts.remove(name)
        self.times = TimeCounts()
        self.held: dict[int, list[Samples]] = {}
        self.held_rows: dict[int, int] = {}
        self.written: dict[Place, list[str]] = {}

    def add(self, samples: Samples, first: int, rows_read: int) -> None:
        if not len(samples):
            return
        assert samples.row is not None, "the scan gives each sample's row"
        self.times.add(samples.stamp)
        place = self.place_of[samples.rid]
        present = np.unique(place)
        order = np.argsort(place, kind="stable") if len(present) > 1 else None
        ends = np.cumsum(np.bincount(place, minlength=len(self.places))[present]) if order is not None else None
        begin = 0
        for index, code in enumerate(present.tolist()):
            if order is None:
                piece = samples
            else:
                assert ends is not None
                piece = samples.take(order[begin:ends[index]])
                begin = int(ends[index])
            self.held.setdefault(code, []).append(piece)
            self.held_rows[code] = self.held_rows.get(code, 0) + len(piece)
            if self.held_rows[code] >= PART_ROWS:
                self._write(code)
        while sum(self.held_rows.values()) > HELD_ROWS:
            self._write(max(self.held_rows, key=lambda c: self.held_rows[c]))

    def finish(self) -> dict[Place, list[str]]:
        """Write what is held; the parts of each place, in file order."""
        for code in sorted(self.held_rows):
            self._write(code)
        return self.written

    def recount(self, rejected: np.ndarray) -> TimeCounts:
        """The times of the samples of resources not ``rejected`` (a mask over the reader's ids), from the parts."""
        self.finish()
        times = TimeCounts()
        for place, names in self.written.items():
            code = self.places.index(place)
            refused = pa.array(self.dictionaries[code].to_numpy(zero_copy_only=False)[
                rejected[self.members[code]]].tolist(), type=pa.string())
            for name in names:
                table = pq.read_table(self.parts.path(name), columns=["resource_id", "timestamp"])
                keep = pc.invert(pc.is_in(table.column("resource_id").cast(pa.string()),
                                                          value_set=refused))
                times.add(table.column("timestamp").filter(keep).cast(pa.int64()).to_numpy())
        return times

    def _write(self, code: int) -> None:
        pieces = self.held.pop(code)
        self.held_rows.pop(code)
        held = Samples.concat(pieces) if len(pieces) > 1 else pieces[0]
        assert held.row is not None
        columns = {
            "resource_id": pa.DictionaryArray.from_arrays(pa.array(self.local[held.rid], type=pa.int32()),
                                                          self.dictionaries[code]),
            "metric": pa.DictionaryArray.from_arrays(pa.array(held.metric.astype(np.int32)), _METRICS),
            "timestamp": pa.array(held.stamp, type=pa.int64()).cast(pa.timestamp(self.unit, tz="UTC")),
            "value": pa.array(held.value, type=pa.float64()),
            **({"stat": pa.array(held.stat, type=pa.int8())} if held.stat is not None else {}),
            "row": pa.array(held.row, type=pa.int64()),
        }
        place = self.places[code]
        names = self.written.setdefault(place, [])
        name = f"{directory_of(place)}/part-{len(names):06d}.parquet"
        sink = pa.BufferOutputStream()
        pq.write_table(pa.table(columns), sink, compression="zstd", compression_level=1)
        self.parts.put(name, sink.getvalue().to_pybytes())
        names.append(name)


@dataclass(frozen=True)
class ShardParts:
    """Where a shard's samples are: the parts root (a path every worker can read) and each place's parts."""

    root: str
    parts: tuple[tuple[Place, tuple[str, ...]], ...]  # the shard's places, in order, and their parts
    unit: TimeUnit
    stat: bool  # the export has a stat column


class PartsReader(MetricsReader):
    """A shard's parts read as :class:`MetricsReader` reads the file, for the streaming reducer: the shard's
    resources' accepted samples, in file order place after place, each place's positions shifted past the previous
    place's (so "every row of this resource has been read" means the same as in the file). Samples outside the
    window are dropped and counted with the first one's file position (the driver words the problem)."""

    def __init__(self, where: ShardParts, ids: pd.Index, last_rows: np.ndarray, place: np.ndarray) -> None:
        # the file's reader is not opened: only what the reducer reads is set
        self.where, self.ids, self.unit = where, ids, where.unit
        self.parts = LocalParts(Path(where.root))
        self.rejected = np.zeros(len(ids), dtype=bool)
        self.last_row = np.where(last_rows >= 0, (place.astype(np.int64) << _SHIFT) + last_rows, -1)
        self.problems: list[str] = []
        self.outside, self.first_outside = 0, -1

    def read(self, sink: Sink, window: Window | None = None, only: np.ndarray | None = None,
             report: bool = True) -> None:
        bounds = None if window is None else (in_unit(window[0], self.unit, True), in_unit(window[1], self.unit, False))
        for index, samples in self._batches():
            if only is not None:
                samples = samples.take(only[samples.rid])
            assert samples.row is not None
            if bounds is not None:
                inside = (samples.stamp >= bounds[0]) & (samples.stamp <= bounds[1])
                if not inside.all():
                    self.outside += int((~inside).sum())
                    first = int(samples.row[~inside].min())
                    self.first_outside = first if self.first_outside < 0 else min(first, self.first_outside)
                    samples = samples.take(inside)
            if len(samples):
                assert samples.row is not None
                shift = index << _SHIFT
                sink.add(samples, shift + int(samples.row[0]), shift + int(samples.row[-1]) + 1)

    def _batches(self) -> Iterator[tuple[int, Samples]]:
        """Each place's samples of the shard's resources (with their rows), batch by batch."""
        metric_codes = pd.Index(METRIC_NAMES)
        for index, (_, names) in enumerate(self.where.parts):
            for name in names:
                try:
                    batches = pq.ParquetFile(self.parts.path(name), read_dictionary=["resource_id", "metric"]) \
                        .iter_batches(batch_size=BATCH_ROWS)
                    for batch in batches:
                        rid = batch.column("resource_id")
                        codes = self.ids.get_indexer(pd.Index(rid.dictionary.to_numpy(zero_copy_only=False)))
                        local = codes.astype(np.int32)[rid.indices.to_numpy()]
                        metric = batch.column("metric")
                        metrics = metric_codes.get_indexer(pd.Index(metric.dictionary.to_numpy(zero_copy_only=False)))
                        samples = Samples(local, metrics.astype(np.int8)[metric.indices.to_numpy()],
                                          batch.column("timestamp").cast(pa.int64()).to_numpy(),
                                          batch.column("value").to_numpy(),
                                          batch.column("stat").to_numpy() if self.where.stat else None,
                                          batch.column("row").to_numpy())
                        mine = local >= 0  # the others were rejected after the scan wrote some of their samples
                        yield index, samples if mine.all() else samples.take(mine)
                except OSError as exc:
                    raise SourceError(f"shard parts {self.where.root}/{name}: cannot be read ({first_line(exc)}); "
                                      "every worker must see the driver's shard directory ([executor] shard_dir, "
                                      "docs/scale.md)") from exc


def reduce_parts(where: ShardParts, inventory: pd.DataFrame, last_rows: dict[str, int], window: Window,
                 needs: SampleNeeds) -> tuple[SampleSummary, int, tuple[int, int]]:
    """The summary of a shard's resources (``inventory``, with its account and region) over the run's
    ``window``, read from its parts; the repeated samples ignored; and the samples outside the window (count and
    the first one's file position, -1 if none)."""
    from advisor.sources.reduce import Reducer, reduce_samples

    ids = pd.Index(inventory["resource_id"].astype(str))
    order = {place: index for index, (place, _) in enumerate(where.parts)}
    place = np.array([order[(str(a), str(r))] for a, r in zip(inventory["account"], inventory["region"],
                                                             strict=True)], dtype=np.int64)
    last = np.array([last_rows.get(rid, -1) for rid in ids], dtype=np.int64)
    reader = PartsReader(where, ids, last, place)
    summary, _, repeated, _ = reduce_samples(reader, Reducer, needs, window[0], window[1],
                                             only=np.ones(len(ids), dtype=bool))
    if summary is None:
        summary = engine_samples.merge([], window, needs)
    assert isinstance(summary, SampleSummary)
    return summary, repeated, (reader.outside, reader.first_outside)
