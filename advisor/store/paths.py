"""Where per-user files live: ``$XDG_DATA_HOME/advisor`` (``~/.local/share/advisor`` by default)."""

from __future__ import annotations

import os
from pathlib import Path


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "advisor"


def default_store_path() -> Path:
    """``$ADVISOR_STORE`` if set, else ``<user data dir>/cache.duckdb``."""
    override = os.environ.get("ADVISOR_STORE")
    return Path(override) if override else user_data_dir() / "cache.duckdb"


def user_catalog_dir() -> Path:
    """Where ``advisor catalog refresh`` writes the local catalog (same layout as the bundled one)."""
    return user_data_dir() / "catalog"
