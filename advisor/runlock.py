"""A lock so two scheduled runs never overlap (cron fires again before the last run ended)."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from advisor.errors import AdvisorError
from advisor.fsutil import open_regular

EXIT_LOCKED = 4
LOCK_FILE = "advisor.lock"


class LockedError(AdvisorError):
    """Another advisor run holds the lock (exit code 4)."""

    exit_code = EXIT_LOCKED


class RunLock:
    """An exclusive, non-blocking ``flock`` on ``<store>/advisor.lock``; released when the process exits.

    The lock file is opened without following links (``advisor.fsutil.open_regular``): a link planted at its name
    in a shared store directory is refused, so the holder's JSON never lands in someone else's file."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockedError(f"another advisor run holds {self.path}{holder}; this run exits without doing "
                              "anything") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "started": datetime.now(UTC).isoformat(timespec="seconds")})
                 .encode())
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 200, 0) or b"{}")
    except (OSError, ValueError):
        return ""
    return f" (pid {data['pid']}, started {data['started']})" if "pid" in data else ""
