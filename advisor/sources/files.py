"""The file source (a public, stable contract; see README "File source format").

A directory with ``inventory.csv`` (or ``inventory.parquet``) and ``metrics.csv`` (or ``metrics.parquet``) in the
shapes of DESIGN §2. Tags may be a JSON object or ``key=value;key=value`` text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advisor.errors import SourceError
from advisor.model import normalize_inventory, normalize_metrics


def _find(directory: Path, stem: str) -> Path:
    for suffix in (".parquet", ".csv", ".csv.gz"):
        candidate = directory / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    raise SourceError(f"{directory}: no {stem}.csv or {stem}.parquet found")


def _read(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype={"resource_id": str, "account": str, "attached_to": str,
                                        "accelerator_type": str, "tags": str, "instance_type": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise SourceError(f"{path}: cannot be read ({exc})") from exc


def load_files(directory: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceError(f"{directory}: not a directory (expected inventory.csv and metrics.csv inside)")
    inventory_path, metrics_path = _find(directory, "inventory"), _find(directory, "metrics")
    inventory = normalize_inventory(_read(inventory_path), origin=str(inventory_path))
    metrics = normalize_metrics(_read(metrics_path), origin=str(metrics_path))
    unknown = sorted(set(metrics["resource_id"].unique()) - set(inventory["resource_id"]))
    if unknown:
        raise SourceError(f"{metrics_path}: resource_id {unknown[0]!r} is not in {inventory_path.name} "
                          f"({len(unknown)} unknown id(s))")
    return inventory, metrics
