"""Safe file writes: a reader never sees a half-written file, and a planted link never redirects a write.

Output, store and log directories may be shared (a team's report directory, /tmp). Anyone who can create a file
there can plant a symbolic link at a name the tool writes, hoping the tool follows it and overwrites a file they
could not touch themselves. So every write goes either to a fresh temporary file with an unpredictable name
(``mkstemp``: ``O_CREAT|O_EXCL|O_NOFOLLOW``) renamed over the final name (a rename replaces a link, it never
writes through it), or, for files that are appended to or locked in place, to a file opened with ``O_NOFOLLOW``
that must be a regular file with a single link.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from advisor.errors import ConfigError

# Files holding an estate's inventory (names, tags, accounts, costs) are private unless configured otherwise.
PRIVATE_MODE = 0o600


def atomic_write_bytes(path: Path, data: bytes, mode: int = PRIVATE_MODE) -> Path:
    """Write to an unpredictably named temporary file beside ``path``, fsync, then rename over it.

    Whatever was at ``path`` (a file, or a link planted there) is replaced, never written through.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE_MODE) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), mode)


def open_regular(path: Path, flags: int, mode: int = PRIVATE_MODE) -> int:
    """``os.open`` that never follows a link at ``path`` and accepts only a regular file with one link.

    For files used in place (the run lock, an appended log). ``O_NONBLOCK`` keeps a planted FIFO from hanging
    the open; a hard link to someone else's file is refused like a symbolic link. Raises ConfigError.
    """
    path = Path(path)
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if path.is_symlink():
            raise ConfigError(f"{path} is a symbolic link; refusing to follow it (remove it)") from exc
        raise ConfigError(f"{path}: cannot open ({exc.strerror})") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        what = "not a regular file" if not stat.S_ISREG(info.st_mode) else "a hard link to another file"
        raise ConfigError(f"{path} is {what}; refusing to write to it (remove it)")
    os.set_blocking(fd, True)
    return fd


def ensure_writable_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove it writable with an anonymous temporary file (no fixed name)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(f"output directory {path}: cannot write there ({exc.strerror})") from exc
    return path


def refuse_links(path: Path, what: str) -> None:
    """Refuse a database file (or its write-ahead log) that is a symbolic link.

    DuckDB opens its files itself, following links; checking first closes the easy attack (a link planted in a
    shared store directory before the run) though not a race against a writer who swaps the file mid-run.
    """
    for candidate in (Path(path), Path(f"{path}.wal")):
        if candidate.is_symlink():
            raise ConfigError(f"{what} {candidate} is a symbolic link; refusing to follow it (remove it)")
