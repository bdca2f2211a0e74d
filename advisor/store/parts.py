"""The store's datapoints: Hive-partitioned Parquet parts, on the local disk or on S3.

Layout, under the parts root: ``account=<id>/region=<name>/date=<YYYY-MM-DD>/part-<uuid>.parquet``, each part with
the columns ``series_id`` (int32, the catalog's id of the series), ``ts`` (int64, epoch seconds) and ``value``
(float64: CloudWatch sends doubles and byte counters exceed float32's 24-bit mantissa), sorted by series and time.
The account, region and UTC date of a point are in its path only, so any Parquet reader with Hive partitioning
(DuckDB, Athena, Trino, Spark) sees them as columns.

A part appears whole or not at all: locally it is written to an unpredictably named temporary file in its own
directory, fsynced and renamed (then the directory is fsynced); on S3 an object is visible only once its upload
completes. Locally, every directory from the root down is opened with ``O_NOFOLLOW`` relative to its parent, so a
link planted at a partition directory (or at the root) is refused, never followed.
"""

from __future__ import annotations

import errno
import os
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from advisor.errors import AdvisorError

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem

SCHEMA = pa.schema([("series_id", pa.int32()), ("ts", pa.int64()), ("value", pa.float64())])
ROW_GROUP = 65_536  # rows per row group: a reader of a few series skips the others' groups by their statistics
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_PART = re.compile(r"part-[0-9a-f]{32}\.parquet")


class PartsError(AdvisorError):
    """A part cannot be written or read, or a partition directory is unsafe (exit code 2)."""

    exit_code = 2


def day_of(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def days(start: int, end: int) -> list[date]:
    """The UTC dates that ``[start, end)`` (epoch seconds) touches."""
    if end <= start:
        return []
    first, last = day_of(start), day_of(end - 1)
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def partition(account: str, region: str, day: date) -> str:
    """The partition's directory relative to the root (account and region must be plain names)."""
    for what, value in (("account", account), ("region", region)):
        if not _NAME.fullmatch(value) or value in (".", ".."):
            raise PartsError(f"store: {what} {value!r} cannot name a partition directory (expected letters, digits, "
                             "'.', '_' or '-')")
    return f"account={account}/region={region}/date={day.isoformat()}"


def encode(table: pa.Table) -> bytes:
    """One part's bytes: ``table`` (``SCHEMA``) sorted by series and time, zstd-compressed."""
    table = table.cast(SCHEMA).sort_by([("series_id", "ascending"), ("ts", "ascending")])
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=ROW_GROUP)
    return bytes(sink.getvalue().to_pybytes())


def split_by_day(table: pa.Table) -> Iterator[tuple[date, pa.Table]]:
    """``table``'s rows per UTC date of ``ts``."""
    stamps = table.column("ts").to_numpy()
    day_number = stamps // 86_400
    for number in np.unique(day_number):
        yield day_of(int(number) * 86_400), table.filter(pa.array(day_number == number))


class Parts(ABC):
    """Where one store's parts live. Names are relative to the root (``partition/part-<uuid>.parquet``)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """The root, as a user would type it (a directory, or ``s3://bucket/prefix/points``)."""

    @abstractmethod
    def put(self, name: str, data: bytes) -> None:
        """Write (or replace) one part atomically."""

    @abstractmethod
    def remove(self, name: str) -> None:
        """Delete one part (nothing if it is gone already)."""

    @abstractmethod
    def exists(self, name: str) -> bool: ...

    @abstractmethod
    def listdir(self, relative: str) -> list[str]:
        """The entries of a directory under the root (empty when it does not exist)."""

    @abstractmethod
    def read(self, name: str) -> pa.Table: ...

    @abstractmethod
    def check(self) -> None:
        """Refuse an unsafe root now rather than at the first write."""

    @abstractmethod
    def rows(self, name: str) -> int:
        """Rows in a part (from its footer)."""

    @abstractmethod
    def source(self, names: list[str]) -> tuple[str, object]:
        """What DuckDB scans for these parts: ``(FROM clause, parameter or relation)``."""

    def write(self, account: str, region: str, table: pa.Table) -> list[str]:
        """``table``'s rows as new parts, one per UTC date; returns their names."""
        written = []
        for day, rows in split_by_day(table):
            name = f"{partition(account, region, day)}/part-{uuid.uuid4().hex}.parquet"
            self.put(name, encode(rows))
            written.append(name)
        return written

    def parts_of(self, account: str, region: str, dates: list[date]) -> list[str]:
        """The parts of these partitions."""
        out: list[str] = []
        for day in dates:
            directory = partition(account, region, day)
            out.extend(f"{directory}/{entry}" for entry in sorted(self.listdir(directory)) if _PART.fullmatch(entry))
        return out

    def every_part(self) -> list[str]:
        """Every part under the root (partition directories named as this module writes them)."""
        out: list[str] = []
        for account in self.listdir(""):
            if not account.startswith("account="):
                continue
            for region in self.listdir(account):
                if not region.startswith("region="):
                    continue
                for day in self.listdir(f"{account}/{region}"):
                    if day.startswith("date="):
                        directory = f"{account}/{region}/{day}"
                        out.extend(f"{directory}/{e}" for e in sorted(self.listdir(directory)) if _PART.fullmatch(e))
        return out


class LocalParts(Parts):
    """Parts in a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def location(self) -> str:
        return str(self.root)

    @contextmanager
    def _directory(self, relative: str, create: bool) -> Iterator[int | None]:
        """A descriptor of ``root/relative``, each level opened without following links (None: it does not
        exist and ``create`` is false)."""
        if create:
            try:
                self.root.parent.mkdir(parents=True, exist_ok=True)
                os.mkdir(self.root, 0o700)
            except FileExistsError:
                pass
            except OSError as exc:
                raise PartsError(f"store parts {self.root}: cannot create the directory ({exc.strerror})") from exc
        fd: int | None = None
        try:
            fd = self._open(None, str(self.root), self.root, create=False)
            for level in (p for p in relative.split("/") if p):
                if fd is None:
                    break
                child = self._open(fd, level, self.root / relative, create)
                os.close(fd)
                fd = child
            yield fd
        finally:
            if fd is not None:
                os.close(fd)

    @staticmethod
    def _open(parent: int | None, name: str, shown: Path, create: bool) -> int | None:
        if create and parent is not None:
            with suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=parent)
        try:
            return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise PartsError(f"store parts: {shown} (at {name!r}) is a symbolic link or not a directory; "
                                 "refusing to follow it (remove it)") from None
            raise PartsError(f"store parts: {shown}: cannot open ({exc.strerror})") from exc

    def check(self) -> None:
        self.listdir("")

    def put(self, name: str, data: bytes) -> None:
        directory, _, filename = name.rpartition("/")
        with self._directory(directory, create=True) as fd:
            assert fd is not None
            temporary = f".{filename}.{uuid.uuid4().hex}.tmp"
            out = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                          dir_fd=fd)
            try:
                with os.fdopen(out, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, filename, src_dir_fd=fd, dst_dir_fd=fd)
            except BaseException:
                with suppress(FileNotFoundError):
                    os.unlink(temporary, dir_fd=fd)
                raise
            os.fsync(fd)  # the rename itself is durable before the range is logged as fetched

    def remove(self, name: str) -> None:
        directory, _, filename = name.rpartition("/")
        with self._directory(directory, create=False) as fd:
            if fd is None:
                return
            try:
                os.unlink(filename, dir_fd=fd)
            except FileNotFoundError:
                return
            os.fsync(fd)

    def exists(self, name: str) -> bool:
        directory, _, filename = name.rpartition("/")
        return filename in self.listdir(directory)

    def listdir(self, relative: str) -> list[str]:
        with self._directory(relative, create=False) as fd:
            return [] if fd is None else os.listdir(fd)

    def read(self, name: str) -> pa.Table:
        return pq.read_table(self._checked(name), schema=SCHEMA)

    def rows(self, name: str) -> int:
        return int(pq.ParquetFile(self._checked(name)).metadata.num_rows)

    def path(self, name: str) -> str:
        """The part's path to open, once its directories are known not to be links."""
        return self._checked(name)

    def _checked(self, name: str) -> str:
        """The part's path, once its directories are known not to be links."""
        with self._directory(name.rpartition("/")[0], create=False):
            return str(self.root / name)

    def source(self, names: list[str]) -> tuple[str, object]:
        return "read_parquet(?)", [str(self.root / name) for name in names]


class S3Parts(Parts):
    """Parts under ``s3://bucket/prefix/points`` (written with pyarrow's S3 filesystem)."""

    def __init__(self, url: str, filesystem: FileSystem) -> None:
        self.url = url.rstrip("/")
        self.base = self.url.removeprefix("s3://") + "/points"
        self.fs = filesystem

    @property
    def location(self) -> str:
        return f"{self.url}/points"

    def _path(self, relative: str) -> str:
        return f"{self.base}/{relative}" if relative else self.base

    def put(self, name: str, data: bytes) -> None:
        with self.fs.open_output_stream(self._path(name)) as out:  # the object appears once the upload completes
            out.write(data)

    def remove(self, name: str) -> None:
        from pyarrow.fs import FileType

        if self.fs.get_file_info(self._path(name)).type != FileType.NotFound:
            self.fs.delete_file(self._path(name))

    def exists(self, name: str) -> bool:
        from pyarrow.fs import FileType

        return bool(self.fs.get_file_info(self._path(name)).type != FileType.NotFound)

    def listdir(self, relative: str) -> list[str]:
        from pyarrow.fs import FileSelector

        infos = self.fs.get_file_info(FileSelector(self._path(relative), allow_not_found=True))
        return [info.base_name for info in infos]

    def check(self) -> None:
        pass  # no links on S3

    def read(self, name: str) -> pa.Table:
        return pq.read_table(self._path(name), filesystem=self.fs, schema=SCHEMA)

    def rows(self, name: str) -> int:
        with self.fs.open_input_file(self._path(name)) as handle:
            return int(pq.ParquetFile(handle).metadata.num_rows)

    def source(self, names: list[str]) -> tuple[str, object]:
        import pyarrow.dataset as ds

        return "_parts", ds.dataset([self._path(n) for n in names], schema=SCHEMA, format="parquet",
                                    filesystem=self.fs)
