"""``advisor.toml``: found, parsed, validated (a typo never passes silently) and merged with CLI flags.

Precedence: CLI flags > advisor.toml > built-in defaults. Every effective value remembers where it came from, which
``advisor config show`` prints. The file is looked for in ``--config PATH``, then ``./advisor.toml``, then
``$XDG_CONFIG_HOME/advisor/advisor.toml`` (``~/.config/advisor/advisor.toml``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.errors import ConfigError
from advisor.settings import Settings, Statistic

CONFIG_NAME = "advisor.toml"
# Shown masked by `advisor config show` (its output ends up in tickets and CI logs).
SECRET_KEYS = ("aws.external_id",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Strict):
    spec: str | None = Field(None, description="what `advisor audit` reads without --source: aws, demo, files:DIR")


AgentDimension = Literal["InstanceId", "host"]


def _by_instance_id() -> list[AgentDimension]:
    return ["InstanceId"]


class AwsConfig(_Strict):
    regions: list[str] = Field(default_factory=list, description="regions to collect, or ['all']")
    profile: str | None = None
    role_arns: list[str] = Field(default_factory=list, description="roles to assume, one per account")
    external_id: str | None = None
    agent_namespace: str = Field("CWAgent", min_length=1, description="namespace the CloudWatch agent publishes to "
                                 "(its configuration's metrics.namespace)")
    agent_memory_dimensions: list[AgentDimension] = Field(
        default_factory=_by_instance_id, min_length=1,
        description="dimensions naming the instance in the agent's metrics, tried in order: InstanceId (the agent's "
                    "append_dimensions) or host (its default: the hostname, matched to the private DNS name)")


class WindowConfig(_Strict):
    days: float = Field(14, gt=0, description="days of history to read (CloudWatch keeps at most 455)")


class MetricConfig(_Strict):
    statistic: Statistic | None = None
    headroom_pct: float | None = Field(None, ge=0, le=100)


class SizingConfig(_Strict):
    horizon_days: int | None = Field(None, ge=1, le=365)
    min_hours: float | None = Field(None, ge=0)
    allow_burstable_targets: bool | None = None
    cpu: MetricConfig = MetricConfig()
    memory: MetricConfig = MetricConfig()
    gpu: MetricConfig = MetricConfig()
    gpu_memory: MetricConfig = MetricConfig()
    network: MetricConfig = MetricConfig()


class RulesConfig(_Strict):
    dirs: list[Path] = Field(default_factory=list)
    disabled: list[str] = Field(default_factory=list)
    overrides: dict[str, dict[str, float]] = Field(default_factory=dict,
                                                   description="rule id -> {threshold name: value}")


class FiltersConfig(_Strict):
    include_tags: dict[str, list[str]] = Field(default_factory=dict)
    exclude_tags: dict[str, list[str]] = Field(default_factory=dict)


class DiscountsConfig(_Strict):
    flat_pct: float = Field(0.0, ge=0, le=100, description="discount on every on-demand price (Savings Plans)")
    families: dict[str, float] = Field(default_factory=dict, description="per-family discount % (RIs, EC2 SPs)")

    def model_post_init(self, _: Any) -> None:
        for family, pct in self.families.items():
            if not 0 <= pct <= 100:
                raise ValueError(f"families.{family}: a discount must be between 0 and 100 %, got {pct}")


class OutputConfig(_Strict):
    dir: Path = Path("advisor-report")
    retention: int = Field(30, ge=1, description="dated reports (runs) to keep in the output directory")
    group_tag: str = Field("team", description="tag whose values the savings are also broken down by")
    file_mode: str = Field(default="0600", pattern=r"^0?[0-7]{3}$",
                           description="permissions of the reports and exports (octal text; they hold the estate's "
                           "inventory, so private by default)")

    @property
    def mode(self) -> int:
        return int(self.file_mode, 8)


class StoreConfig(_Strict):
    path: Path | None = None


class LoggingConfig(_Strict):
    file: Path | None = None
    format: Literal["json", "text"] = "json"


class FileConfig(_Strict):
    source: SourceConfig = SourceConfig()
    aws: AwsConfig = AwsConfig()
    window: WindowConfig = WindowConfig()
    sizing: SizingConfig = SizingConfig()
    rules: RulesConfig = RulesConfig()
    filters: FiltersConfig = FiltersConfig()
    discounts: DiscountsConfig = DiscountsConfig()
    output: OutputConfig = OutputConfig()
    store: StoreConfig = StoreConfig()
    logging: LoggingConfig = LoggingConfig()


@dataclass
class EffectiveConfig:
    """The merged configuration, plus where each value came from (dotted key -> origin)."""

    file: FileConfig
    settings: Settings
    path: Path | None
    origins: dict[str, str] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, Any, str]]:
        """(key, value, origin) for every effective setting, for ``advisor config show``."""
        values = {**_flatten("", self.file.model_dump(mode="json")),
                  **_flatten("sizing.", _settings_view(self.settings))}
        for key in SECRET_KEYS:
            if values.get(key):
                values[key] = "****"
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


def load_config(explicit: Path | None = None, overrides: dict[str, Any] | None = None) -> EffectiveConfig:
    """Find and validate the file, then apply CLI ``overrides`` (dotted keys; None values are ignored)."""
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
        file = FileConfig.model_validate(raw)
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
        origins[key] = "command line"
    settings = _settings(file, cli)
    return EffectiveConfig(file=_apply_file_overrides(file, cli), settings=settings, path=path, origins=origins)


def _settings(file: FileConfig, cli: dict[str, Any]) -> Settings:
    sizing = file.sizing
    data: dict[str, Any] = {}
    for name in ("horizon_days", "min_hours", "allow_burstable_targets"):
        value = cli.get(f"sizing.{name}", getattr(sizing, name))
        if value is not None:
            data[name] = value
    defaults = Settings()
    for dim in ("cpu", "memory", "gpu", "gpu_memory", "network"):
        base = defaults.policy(dim)
        configured: MetricConfig = getattr(sizing, dim)
        statistic = cli.get(f"sizing.{dim}.statistic", configured.statistic) or base.statistic
        headroom = cli.get(f"sizing.{dim}.headroom_pct", configured.headroom_pct)
        data[dim] = {"statistic": statistic, "headroom": base.headroom if headroom is None else headroom / 100}
    data["rules_dirs"] = [*file.rules.dirs, *cli.get("rules.dirs", [])]
    data["disabled_rules"] = [*file.rules.disabled, *cli.get("rules.disabled", [])]
    data["rule_overrides"] = file.rules.overrides
    data["include_tags"] = file.filters.include_tags
    data["exclude_tags"] = file.filters.exclude_tags
    data["discount_flat_pct"] = file.discounts.flat_pct
    data["discount_families"] = file.discounts.families
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}") from exc


def _apply_file_overrides(file: FileConfig, cli: dict[str, Any]) -> FileConfig:
    """CLI values that are not sizing settings (aws, window, output, store, logging) replace the file's."""
    data = file.model_dump()
    for key, value in cli.items():
        section, _, name = key.partition(".")
        if section in ("source", "aws", "window", "output", "store", "logging") and name:
            data[section][name] = value
    try:
        return FileConfig.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"{'.'.join(str(p) for p in error['loc'])} (from the command line): {error['msg']}") \
            from exc


def _settings_view(settings: Settings) -> dict[str, Any]:
    view = settings.model_dump(mode="json", include={"horizon_days", "min_hours", "allow_burstable_targets"})
    for dim in ("cpu", "memory", "gpu", "gpu_memory", "network"):
        policy = settings.policy(dim)
        view[dim] = {"statistic": policy.statistic, "headroom_pct": round(policy.headroom * 100, 6)}
    return view


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
            if full == loc or (current == table and match.group(2) == key):
                return number
    return header_line
