"""Sources yield the two frames the engine needs: ``(inventory, metrics)``."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from advisor.errors import ConfigError


@dataclass
class SourceData:
    inventory: pd.DataFrame
    metrics: pd.DataFrame
    label: str
    problems: list[str]


def load_source(spec: str) -> SourceData:
    """``demo`` or ``files:DIR``."""
    kind, _, argument = spec.partition(":")
    if kind == "demo":
        from advisor.sources.demo import load_demo

        inventory, metrics = load_demo()
        return SourceData(inventory, metrics, "demo fleet (bundled)", [])
    if kind == "files":
        if not argument:
            raise ConfigError("--source files:DIR needs a directory, e.g. --source files:./export")
        from advisor.sources.files import load_files

        inventory, metrics = load_files(argument)
        return SourceData(inventory, metrics, f"files:{argument}", [])
    raise ConfigError(f"unknown source {spec!r}: use 'demo' or 'files:DIR'")
