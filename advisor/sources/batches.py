"""A file source's metrics file as a stream of Arrow record batches, never read whole.

Parquet is read by record batches; CSV through pyarrow's streaming reader, every column as dictionary-encoded text
(a CSV cell is text, as the file source has always read it). A file that cannot be read is one SourceError naming
the file and what is wrong, with the messages the whole-file reader gave: the bytes are checked (gzip, UTF-8) only
when pyarrow stops, and a CSV pyarrow refuses but pandas reads (a row short of fields, a repeated column name) is
read again by pandas' own parser, in chunks, so both give the same rows.
"""

from __future__ import annotations

import gzip
import io
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from advisor.errors import SourceError

BATCH_ROWS = 1 << 20
_BLOCK = 4 << 20  # bytes per CSV block: larger ones make pyarrow hold far more memory
_HEAD = 1 << 16
_TEXT = pa.dictionary(pa.int32(), pa.string())
_T = TypeVar("_T")
_END = object()


def ahead(items: Callable[[], Iterator[_T]], depth: int = 2) -> Iterator[_T]:
    """``items()``, produced on a thread of its own up to ``depth`` items ahead of the consumer (pyarrow decodes
    and numpy converts the next batches while this one is used). What ``items()`` raises is raised here, after the
    items it gave; a consumer that stops early stops the thread."""
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items():
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Raised(exc))

    thread = threading.Thread(target=produce, name="advisor-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


class _PandasNeeded(Exception):
    """pyarrow refused a CSV whose bytes are fine: pandas' parser decides (it reads the file whole, in chunks)."""


class MetricsFile:
    """``columns`` (as pandas names them) and ``batches(wanted)``, each pass reading the file from its start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parquet = path.suffix == ".parquet"
        self._pandas = False
        self.timestamp_type: pa.DataType = pa.string()  # a CSV cell is text
        self.columns = self._parquet_columns() if self.parquet else self._csv_columns()

    def batches(self, wanted: list[str]) -> Iterator[pa.RecordBatch]:
        """The ``wanted`` columns, batch after batch. When pyarrow gives up on a CSV after some batches, the file
        is read by pandas' parser from then on and :class:`Restart` is raised: the caller starts its pass again."""
        if self.parquet:
            yield from self._parquet_batches(wanted)
            return
        if not self._pandas:
            given = 0
            try:
                for batch in self._arrow_csv(wanted):
                    given += 1
                    yield batch
                return
            except _PandasNeeded:
                self._pandas = True
                if given:
                    raise Restart from None
        yield from self._pandas_csv(wanted)

    # Parquet ----------------------------------------------------------------------------------------------------

    def _unreadable(self, exc: BaseException) -> SourceError:
        return SourceError(f"{self.path}: not a readable Parquet file ({first_line(exc)})")

    def _parquet_columns(self) -> list[str]:
        try:
            schema = pq.read_schema(self.path)
        except Exception as exc:  # pyarrow raises a zoo of types for truncated or foreign files
            raise self._unreadable(exc) from exc
        index = {c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
        if "timestamp" in schema.names:
            self.timestamp_type = schema.field("timestamp").type
        return [name for name in schema.names if name not in index]  # pandas makes those the (dropped) index

    def _parquet_batches(self, wanted: list[str]) -> Iterator[pa.RecordBatch]:
        try:
            schema = pq.read_schema(self.path)
            text = [c for c in wanted if pa.types.is_string(schema.field(c).type)
                    or pa.types.is_large_string(schema.field(c).type)]
            # pre_buffer would keep every column chunk read so far: memory would grow with the file
            reader = pq.ParquetFile(self.path, read_dictionary=text, pre_buffer=False)
            batches = reader.iter_batches(batch_size=BATCH_ROWS, columns=wanted)
            while True:
                try:
                    batch = next(batches)
                except StopIteration:
                    return
                yield batch
        except Exception as exc:
            raise self._unreadable(exc) from exc

    # CSV --------------------------------------------------------------------------------------------------------

    def _open(self) -> gzip.GzipFile | io.BufferedReader:
        try:
            return gzip.open(self.path) if self.path.name.endswith(".gz") else open(self.path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise SourceError(f"{self.path}: cannot be read ({first_line(exc)})") from exc

    def _csv_columns(self) -> list[str]:
        """The header's names; the checks the whole-file reader made first (readable, UTF-8, not empty, commas)."""
        head = b""
        with self._open() as raw:
            try:
                while len(head) < _HEAD or (b"\n" not in head and b"\r" not in head):
                    chunk = raw.read(_HEAD)
                    if not chunk:
                        break
                    head += chunk
            except (OSError, EOFError, zlib.error):
                self._check_bytes()  # raises the message of the first problem in the file
                raise
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.reason != "unexpected end of data":
                self._check_bytes()
            text = head[:exc.start + (3 if head.startswith(b"\xef\xbb\xbf") else 0)].decode("utf-8-sig")
        if not text.strip():
            self._check_bytes()
            if self._only_blank():
                raise SourceError(f"{self.path}: the file is empty (expected a header line and rows)")
        header = text.splitlines()[0] if text.splitlines() else ""
        if "," not in header:
            for separator, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
                if separator in header:
                    self._check_bytes()
                    raise SourceError(f"{self.path}: columns are separated by {name}; the file source expects commas")
        return self._header()

    def _only_blank(self) -> bool:
        with self._open() as raw:
            while chunk := raw.read(_BLOCK):
                if chunk.decode("utf-8-sig", errors="replace").strip():
                    return False
        return True

    def _check_bytes(self) -> None:
        """Raise what the whole-file reader said first: unreadable bytes (gzip), then text that is not UTF-8."""
        offset, pending, first = 0, b"", b""
        try:
            with self._open() as raw:
                while True:
                    chunk = raw.read(_BLOCK)
                    data = pending + chunk
                    first = first or data[:3]
                    try:
                        data.decode("utf-8")
                        offset, pending = offset + len(data), b""
                    except UnicodeDecodeError as exc:
                        if chunk and exc.reason == "unexpected end of data":
                            offset, pending = offset + exc.start, data[exc.start:]
                        else:
                            self._not_utf8(offset + exc.start, first, data, offset)
                    if not chunk:
                        return
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceError(f"{self.path}: cannot be read ({first_line(exc)})") from exc

    def _not_utf8(self, position: int, first: bytes, data: bytes, data_offset: int) -> None:
        """The message of ``bytes.decode('utf-8-sig')`` on the whole file: offsets count after a byte-order mark
        (and the byte shown is the one at that offset of the file, as it always was)."""
        bom = 3 if first == b"\xef\xbb\xbf" else 0
        shown = position - bom
        if shown >= data_offset:
            byte = data[shown - data_offset]
        else:
            with self._open() as raw:
                raw.seek(shown)
                byte = raw.read(1)[0]
        raise SourceError(f"{self.path}: not UTF-8 text (byte 0x{byte:02x} at offset {shown}); export it as UTF-8")

    def _arrow_csv(self, wanted: list[str]) -> Iterator[pa.RecordBatch]:
        if len(set(self.columns)) != len(self.columns):
            raise _PandasNeeded  # pandas renames repeated names (value, value.1): its parser decides
        try:
            source = self._open() if self.path.name.endswith(".gz") else pa.input_stream(str(self.path))
            with source:
                # every column is converted, so text that is not UTF-8 is found wherever it is
                reader = pacsv.open_csv(
                    source, read_options=pacsv.ReadOptions(block_size=_BLOCK),
                    parse_options=pacsv.ParseOptions(newlines_in_values=True),
                    convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(self.columns, _TEXT),
                                                         strings_can_be_null=False))
                if reader.schema.names != self.columns:
                    raise _PandasNeeded
                for batch in reader:
                    batch = batch.select(wanted)
                    for begin in range(0, batch.num_rows, BATCH_ROWS):
                        yield batch.slice(begin, BATCH_ROWS)
        except (pa.ArrowException, OSError, EOFError, zlib.error) as exc:
            self._check_bytes()
            raise _PandasNeeded from exc

    def _text(self, raw: gzip.GzipFile | io.BufferedReader) -> IO[str]:
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")

    def _header(self) -> list[str]:
        with self._open() as raw:
            try:
                return list(pd.read_csv(self._text(raw), dtype=str, keep_default_na=False, na_filter=False,
                                        nrows=0).columns)
            except (ValueError, pd.errors.ParserError) as exc:
                raise SourceError(f"{self.path}: malformed CSV ({first_line(exc)})") from exc

    def _pandas_csv(self, wanted: list[str]) -> Iterator[pa.RecordBatch]:
        with self._open() as raw:
            try:
                chunks = pd.read_csv(self._text(raw), dtype=str, keep_default_na=False, na_filter=False,
                                     chunksize=BATCH_ROWS)
                for chunk in chunks:
                    yield pa.RecordBatch.from_pandas(chunk.loc[:, wanted], preserve_index=False)
            except (ValueError, pd.errors.ParserError) as exc:
                raise SourceError(f"{self.path}: malformed CSV ({first_line(exc)})") from exc


class Restart(Exception):
    """The file is read by another parser from now on: start the pass again."""
