"""Dated, atomic report outputs with a stable ``latest`` name and retention.

Each run writes ``report-<stamp>.html``, ``recommendations-<stamp>.json`` and ``.csv`` (each atomically), then
replaces the undated ``report.html``, ``recommendations.json`` and ``recommendations.csv`` with copies of them, so
a dashboard or a colleague always finds the newest under a fixed name. Older dated files beyond ``retention`` runs
are deleted; nothing else in the directory is touched.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.fsutil import PRIVATE_MODE, atomic_write_text

_DATED = re.compile(r"^(report|recommendations)-(\d{8}T\d{6}(?:\d{3})?Z)\.(html|json|csv)$")


def stamp(when: datetime) -> str:
    """UTC time to the millisecond (two runs in one second must not overwrite each other), sortable as text."""
    return f"{when:%Y%m%dT%H%M%S}{when.microsecond // 1000:03d}Z"


def write_outputs(directory: Path, when: datetime, documents: dict[str, str], retention: int,
                  mode: int = PRIVATE_MODE) -> list[Path]:
    """``documents`` maps an undated name (``report.html``) to its text; returns the dated paths written.

    Every file, dated or latest, is written atomically through a fresh temporary file (see ``advisor.fsutil``),
    so a link planted at any of these names is replaced, never followed."""
    directory = Path(directory)
    label = stamp(when)
    written = []
    for name, text in documents.items():
        stem, _, suffix = name.rpartition(".")
        try:
            written.append(atomic_write_text(directory / f"{stem}-{label}.{suffix}", text, mode))
            atomic_write_text(directory / name, text, mode)
        except OSError as exc:  # a full disk, a directory planted at the name: a runtime fault (exit code 1)
            raise AdvisorError(f"output directory {directory}: cannot write {name} ({exc.strerror})") from exc
    prune(directory, retention)
    return written


def prune(directory: Path, retention: int) -> list[Path]:
    """Delete dated outputs of all but the newest ``retention`` runs."""
    stamps = sorted({m.group(2) for p in directory.iterdir() if (m := _DATED.match(p.name))}, reverse=True)
    keep = set(stamps[:retention])
    removed = []
    for path in directory.iterdir():
        match = _DATED.match(path.name)
        if match and match.group(2) not in keep:
            path.unlink()
            removed.append(path)
    return removed
