"""``advisor.toml``: found, parsed, validated (a typo never passes silently) and merged with CLI flags.

Precedence: CLI flags > advisor.toml > built-in defaults. Every effective value remembers where it came from, which
``advisor config show`` prints. The file is looked for in ``--config PATH``, then ``./advisor.toml``, then
``$XDG_CONFIG_HOME/advisor/advisor.toml`` (``~/.config/advisor/advisor.toml``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from advisor.errors import ConfigError
from advisor.settings import Config, Settings

CONFIG_NAME = "advisor.toml"
# List settings whose flags add to the file's values instead of replacing them.
ADDITIVE = ("rules.dirs", "rules.disabled")


@dataclass
class EffectiveConfig:
    """The merged configuration, plus where each value came from (dotted key -> origin)."""

    config: Config
    path: Path | None
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        """What the engine reads."""
        return self.config.analysis()

    def rows(self) -> list[tuple[str, Any, str]]:
        """(key, value, origin) for every effective setting, secrets masked, for ``advisor config show``."""
        values = _flatten("", self.config.model_dump(mode="json"))
        return [(key, value, self.origins.get(key, "default")) for key, value in sorted(values.items())]


def find_config(explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        return explicit
    local = Path.cwd() / CONFIG_NAME
    if local.is_file():
        return local
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    user = base / "advisor" / CONFIG_NAME
    return user if user.is_file() else None


def load_config(explicit: Path | None = None, overrides: Mapping[str, Any] | None = None,
                flags: Mapping[str, str] | None = None) -> EffectiveConfig:
    """Find and validate the file, then apply command-line ``overrides`` (dotted keys; None values are ignored).

    ``flags`` names the flag each overridden key came from (``--cpu-headroom``), for error messages."""
    path = find_config(explicit)
    text = ""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        from_file = Config.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error["loc"]]
        line = _locate(text, loc)
        where = f"{path}:{line}" if line else str(path)
        problem = "unknown key (a typo?)" if error["type"] == "extra_forbidden" else error["msg"]
        raise ConfigError(f"{where}: {'.'.join(loc)}: {problem}") from exc
    origins = {key: f"{path}:{_locate(text, key.split('.')) or '?'}" for key in _flatten("", raw)}
    cli = {k: v for k, v in (overrides or {}).items() if v is not None and v != []}
    for key in cli:
        in_file = origins.get(key) if key in ADDITIVE else None
        origins[key] = f"{in_file} + command line" if in_file else "command line"
    return EffectiveConfig(config=_with_flags(from_file, cli, flags or {}), path=path, origins=origins)


def _with_flags(config: Config, cli: dict[str, Any], flags: Mapping[str, str]) -> Config:
    """The file's configuration with the command-line values in place (added to it for :data:`ADDITIVE` keys)."""
    data = config.model_dump()
    for key, value in cli.items():
        *sections, name = key.split(".")
        table = data
        for section in sections:
            table = table[section]
        table[name] = [*table[name], *value] if key in ADDITIVE else value
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        key = next((k for k in cli if loc == k or loc.startswith(k + ".")), loc)
        where = f"{flags[key]} {cli[key]!r}" if key in flags else f"{loc} (from the command line)"
        raise ConfigError(f"{where}: {error['msg']}") from exc


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(f"{prefix}{key}.", item))
        return out
    return {prefix.rstrip("."): value}


def _locate(text: str, loc: list[str]) -> int | None:
    """The line of a dotted key in TOML text: its ``[table]`` header, then ``key =`` inside that table."""
    if not text or not loc:
        return None
    table, key = loc[:-1], loc[-1]
    current: list[str] = []
    header_line = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            current = [part.strip().strip('"') for part in header.group(1).split(".")]
            if current == loc:
                header_line = number
            continue
        match = re.match(r'("?)([A-Za-z0-9_\-.]+)\1\s*=', stripped)
        if match:
            full = current + [p.strip('"') for p in match.group(2).split(".")]
            inline_table = len(full) < len(loc) and loc[:len(full)] == full  # key = { name = value }
            if full == loc or inline_table or (current == table and match.group(2) == key):
                return number
    return header_line
