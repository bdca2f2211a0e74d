"""Structured run logs (JSON lines or text) to a file or stderr, for cron and log shippers."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from advisor.fsutil import open_regular
from advisor.safetext import printable

LOGGER_NAME = "advisor"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """One line per event; newlines and other control characters in values are escaped, so a resource named
    ``"x\n2026-01-01T00:00:00+00:00 info run_finished"`` cannot forge a line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{printable(k)}={printable(v)}" for k, v in getattr(record, "fields", {}).items())
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        return f"{stamp} {record.levelname.lower()} {printable(record.getMessage())} {fields}".rstrip()


class _AppendHandler(logging.StreamHandler):
    """A log file opened by us (without following links), closed with the handler."""

    def close(self) -> None:
        try:
            self.stream.close()
        finally:
            super().close()


def configure(log_file: Path | None, fmt: str = "json", to_stderr: bool = False) -> logging.Logger:
    """Log to ``log_file`` (appending) and/or stderr; with neither, logging stays silent."""
    logger = logging.getLogger(LOGGER_NAME)
    for old in logger.handlers:
        old.close()
    logger.handlers.clear()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    handlers: list[logging.Handler] = []
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        fd = open_regular(Path(log_file), os.O_WRONLY | os.O_APPEND | os.O_CREAT)  # never through a planted link
        handlers.append(_AppendHandler(os.fdopen(fd, "a", encoding="utf-8")))
    if to_stderr:
        handlers.append(logging.StreamHandler())
    if not handlers:
        handlers.append(logging.NullHandler())
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    return logger


def event(name: str, **fields: Any) -> None:
    logging.getLogger(LOGGER_NAME).info(name, extra={"fields": fields})
