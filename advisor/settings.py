"""The one settings schema: every setting's default, bounds and description, in the units a user writes.

``advisor.toml`` is parsed into :class:`Config`; the command-line flags are built from its fields
(``advisor.cli.options``), ``advisor config show`` lists them and ``docs/configuration.md`` is generated from them.
The engine reads the analysis part, :class:`Settings`; percentages become fractions in one place,
:attr:`MetricPolicy.headroom`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo

Statistic = Literal["p50", "p90", "p95", "p99", "max"]
DIMENSIONS = ("cpu", "memory", "gpu", "gpu_memory", "network")
AgentDimension = Literal["InstanceId", "host"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricPolicy(_Section):
    """How demand for one dimension is read from its history: a statistic plus headroom on top."""

    statistic: Statistic = Field(description="statistic of the history read as the demand")
    headroom_pct: float = Field(20.0, ge=0, le=100, description="headroom in % added on top of the demand")

    @property
    def headroom(self) -> float:
        """The headroom as a fraction (20 % = 0.2), as the engine multiplies with it."""
        return self.headroom_pct / 100

    @property
    def held_pct(self) -> float:
        """The highest demand, in % of a capacity, that the capacity holds with this headroom."""
        return 100.0 / (1 + self.headroom)


class SizingConfig(_Section):
    horizon_days: int = Field(30, ge=1, le=365, description="How far ahead the peak forecast looks, in days")
    min_hours: float = Field(30.0, ge=0, description="Resources with fewer hours of history get no recommendation")
    allow_burstable_targets: bool = Field(False, description="Offer t-family types as targets for non-t instances")
    memory_min_headroom_gib: float = Field(1.0, ge=0, le=64, description="Memory kept above the measured peak on a "
                                           "target, in GiB, when more than the headroom in %, up to the current "
                                           "size: a small type has little room for the OS, agents and the next "
                                           "spike")
    use_forecast: bool = Field(True, description="Raise demand to the forecast peak (off: plain statistics, as the "
                               "reference strategies of the backtest)")
    forecast_cap: float = Field(1.5, ge=1.0, le=10.0, description="The forecast peak is at most this many times the "
                                "highest daily peak seen")
    forecast_adds_capacity: bool = Field(False, description="Let the forecast alone ask for more than the current "
                                         "type (a paid upsize on a predicted peak); off: the forecast holds the "
                                         "current size against a downsize, and only measured or censored demand adds "
                                         "capacity")
    risk_budget: float = Field(0.02, ge=0.0, le=1.0, description="Share of resources the advice may hurt when "
                               "calibration replays your own history (0.02 = 2 %); calibration picks the headroom "
                               "that saves most within it")
    forecast_method: Literal["batched-huber", "sklearn-huber"] = Field(
        "batched-huber", description="How the trend is fitted: batched-huber fits every series at once (fast), "
        "sklearn-huber one HuberRegressor per series (the reference; slow on large fleets)")
    missing_network: Literal["hold", "ignore"] = Field(
        "hold", description="A resource whose kind publishes network metrics (EC2) but whose history has none: hold "
        "keeps at least its current type's baseline network bandwidth (no capacity removed without evidence: a "
        "candidate's baseline, never its \"up to\" burst figure, must reach it; a candidate whose baseline the "
        "catalog does not know never does, and where the current type's is unknown no candidate does); "
        "ignore sizes it as if it had no network demand")
    cpu: MetricPolicy = Field(MetricPolicy(statistic="p99"), description="CPU")
    memory: MetricPolicy = Field(MetricPolicy(statistic="max"), description="Memory")
    gpu: MetricPolicy = Field(MetricPolicy(statistic="p99"), description="GPU utilization")
    gpu_memory: MetricPolicy = Field(MetricPolicy(statistic="max"), description="GPU memory")
    network: MetricPolicy = Field(MetricPolicy(statistic="p99"), description="Network")

    @model_validator(mode="before")
    @classmethod
    def _keep_dimension_defaults(cls, data: Any) -> Any:
        """A ``[sizing.memory]`` table that sets only some keys keeps the dimension's defaults for the others."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name in DIMENSIONS:
            if isinstance(data.get(name), dict):
                merged[name] = {**cls.model_fields[name].default.model_dump(), **data[name]}
        return merged


class RulesConfig(_Section):
    dirs: list[Path] = Field(default_factory=list, description="Extra rule pack directories besides the bundled "
                             "ones (flags add to the file's)")
    disabled: list[str] = Field(default_factory=list, description="Rule ids switched off (flags add to the file's)")
    overrides: dict[str, dict[str, float]] = Field(default_factory=dict, description="Rule id -> {threshold name: "
                                                   "value}, e.g. [rules.overrides.ec2-overprovisioned] "
                                                   "cpu_below = 35 (see docs/rules.md)")


class FiltersConfig(_Section):
    include_tags: dict[str, list[str]] = Field(default_factory=dict, description="Analyse only resources with one "
                                               "of these tag values (tag key -> values)")
    exclude_tags: dict[str, list[str]] = Field(default_factory=dict, description="Leave out resources with any of "
                                               "these tag values (tag key -> values)")


class DiscountsConfig(_Section):
    """Discounts by what they cover (see ``advisor.catalog.discounts``); EBS and Spot are never discounted."""

    ec2_pct: float = Field(0.0, ge=0, le=100, description="% off EC2 on-demand compute (Compute Savings Plans; "
                           "Batch's instances included; not EBS, not Spot)")
    sagemaker_pct: float = Field(0.0, ge=0, le=100, description="% off SageMaker ML instances (SageMaker Savings "
                                 "Plans; not managed Spot training)")
    families: dict[str, float] = Field(default_factory=dict, description="Per-EC2-family % (reserved instances, EC2 "
                                       "Instance Savings Plans); replaces ec2_pct for that family")
    flat_pct: float | None = Field(None, exclude=True, description="No longer accepted: use the scoped keys")

    @field_validator("flat_pct")
    @classmethod
    def _no_flat_rate(cls, value: float | None) -> float | None:
        if value is not None:  # one rate on everything discounted EBS and Spot too, which no plan covers
            raise ValueError("a flat discount on every price is no longer accepted (no Savings Plan or reserved "
                             "instance covers EBS or Spot): set ec2_pct (Compute Savings Plans), sagemaker_pct "
                             "(SageMaker Savings Plans) and/or [discounts.families] (reserved instances) instead")
        return value

    def model_post_init(self, _: Any) -> None:
        for family, pct in self.families.items():
            if not 0 <= pct <= 100:
                raise ValueError(f"families.{family}: a discount must be between 0 and 100 %, got {pct}")


class CatalogConfig(_Section):
    max_age_days: float = Field(180.0, gt=0, description="A price source older than this many days is flagged in "
                                "the report and by advisor catalog info")


class SpotConfig(_Section):
    interruptible_tags: dict[str, list[str]] = Field(
        default_factory=lambda: {"workload": ["batch", "stateless"]},
        description="Tag key -> values that mark an EC2 instance as interruptible (a Spot candidate); members of "
        "an Auto Scaling group (tag aws:autoscaling:groupName) always are. Values match case-insensitively")


class SourceConfig(_Section):
    spec: str | None = Field(None, description="Where the data comes from: 'demo', 'files:DIR' (a directory with "
                             "inventory.csv and metrics.csv) or 'aws' (collect from AWS into the local store, then "
                             "analyse)")


def _by_instance_id() -> list[AgentDimension]:
    return ["InstanceId"]


class AwsConfig(_Section):
    regions: list[str] = Field(default_factory=list, description="AWS regions to read; 'all' = every region "
                               "enabled for the account; unset: the profile's or AWS_REGION's region")
    profile: str | None = Field(None, description="AWS profile; unset: the standard credential chain")
    role_arns: list[str] = Field(default_factory=list, description="Roles to assume to read, one per account; "
                                 "unset: the credentials' own account")
    external_id: SecretStr | None = Field(None, description="External id for the roles (shown masked)")
    agent_namespace: str = Field("CWAgent", min_length=1, description="Namespace the CloudWatch agent publishes to "
                                 "(its configuration's metrics.namespace)")
    agent_memory_dimensions: list[AgentDimension] = Field(
        default_factory=_by_instance_id, min_length=1,
        description="Dimensions naming the instance in the agent's metrics, tried in order: InstanceId (the agent's "
                    "append_dimensions) or host (its default: the hostname, matched to the private DNS name)")


class WindowConfig(_Section):
    days: float = Field(14.0, gt=0, description="Days of history to read, up to now (CloudWatch keeps at most 455)")


class OutputConfig(_Section):
    dir: Path = Field(Path("advisor-report"), description="Directory for report.html, recommendations.json and "
                      ".csv (plus dated copies)")
    retention: int = Field(30, ge=1, description="Dated reports (runs) to keep in the output directory")
    group_tag: str = Field("team", description="Tag whose values the savings are also broken down by "
                           "(e.g. cost-centre)")
    file_mode: str = Field("0600", pattern=r"^0?[0-7]{3}$", description="Permissions of the reports and exports "
                           "(octal text; they hold the estate's inventory, so private by default)")
    full_resolution_top: int = Field(50, ge=0, description="In the HTML report of a fleet too large for every "
                                     "drill-down at full resolution: the findings (largest savings first) that keep "
                                     "hourly maxima and means; the others show maxima over a few hours or a day")

    @property
    def mode(self) -> int:
        return int(self.file_mode, 8)


class StoreConfig(_Section):
    path: Path | None = Field(None, description="Local cache file (its directory also holds the run history); "
                              "unset: $ADVISOR_STORE, else advisor/cache.duckdb in $XDG_DATA_HOME or ~/.local/share")
    url: str | None = Field(None, pattern=r"^s3://", description="Where collected datapoints go as Parquet "
                            "parts, s3://bucket/prefix (the catalog stays local, keyed by the URL; see "
                            "docs/store.md); unset: beside the local cache file")


class LoggingConfig(_Section):
    file: Path | None = Field(None, description="Append structured logs here; '-' for stderr; unset: no log")
    format: Literal["json", "text"] = Field("json", description="Log line format: json (one object a line) or "
                                            "text")


class ExecutorConfig(_Section):
    kind: Literal["local", "dask"] = Field("local", description="Where the audit runs: local (this machine; one "
                                           "process unless workers is set) or dask (one task per account/region "
                                           "shard on a Dask cluster; see docs/scale.md)")
    scheduler: str | None = Field(None, description="Dask scheduler address (tcp://HOST:8786) for kind dask; unset: "
                                  "a local Dask cluster on this machine")
    workers: int | None = Field(None, ge=1, le=256, description="Worker processes: kind local with 2 or more runs "
                                "the shards in that many processes; kind dask without a scheduler starts that many "
                                "local workers (unset: one per core)")
    shard_dir: Path | None = Field(None, description="Where a sharded file-source audit writes each shard's samples "
                                   "for its task to read (a temporary directory inside it, removed at the end); on a "
                                   "cluster, a shared file system every worker mounts at the same path; unset: beside "
                                   "the store")


class Settings(_Section):
    """What the analysis reads (the engine, the report, the backtest's 'ours'): the advice depends on these only."""

    sizing: SizingConfig = Field(SizingConfig(), description="How demand is read and sized")
    rules: RulesConfig = Field(RulesConfig(), description="Rule packs")
    filters: FiltersConfig = Field(FiltersConfig(), description="Which resources are analysed")
    discounts: DiscountsConfig = Field(DiscountsConfig(), description="What you pay below on-demand")
    spot: SpotConfig = Field(SpotConfig(), description="Spot candidates")
    catalog: CatalogConfig = Field(CatalogConfig(), description="The bundled price catalog")

    def policy(self, dimension: str) -> MetricPolicy:
        """The sizing policy of one of :data:`DIMENSIONS`."""
        policy: MetricPolicy = getattr(self.sizing, dimension)
        return policy


class Config(Settings):
    """``advisor.toml``: the analysis settings plus where the data comes from and where results go."""

    source: SourceConfig = Field(SourceConfig(), description="What to analyse")
    aws: AwsConfig = Field(AwsConfig(), description="Reading AWS")
    window: WindowConfig = Field(WindowConfig(), description="The history read from AWS")
    output: OutputConfig = Field(OutputConfig(), description="Reports and exports")
    store: StoreConfig = Field(StoreConfig(), description="The local metrics cache and run history")
    logging: LoggingConfig = Field(LoggingConfig(), description="Structured logs")
    executor: ExecutorConfig = Field(ExecutorConfig(), description="Where the audit's work runs (shards on Dask)")

    def analysis(self) -> Settings:
        """The analysis part alone (no sources, credentials or paths), for the engine and its records."""
        return Settings(**{name: getattr(self, name) for name in Settings.model_fields})


@dataclass(frozen=True)
class SettingField:
    """One leaf of the schema, by its dotted key (``sizing.cpu.headroom_pct``)."""

    key: str
    info: FieldInfo
    default: Any
    description: str

    @property
    def choices(self) -> tuple[Any, ...]:
        """The allowed values of a ``Literal`` field (empty for any other type)."""
        annotation = self.info.annotation
        return get_args(annotation) if get_origin(annotation) is Literal else ()

    @property
    def text(self) -> str:
        """The description, capitalised, with the allowed values of a choice (unless it names them)."""
        text = self.description[:1].upper() + self.description[1:]
        if self.choices and not any(str(choice) in text for choice in self.choices):
            names = [str(choice) for choice in self.choices]
            text += f": {', '.join(names[:-1])} or {names[-1]}"
        return text

    @property
    def shown_default(self) -> str | None:
        """The default as a user writes it (TOML spelling); None when unset or empty (the description says what
        that means)."""
        value = self.default
        if value is None or value == [] or value == {}:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, list | dict):
            return json.dumps(value)
        return str(value)

    @property
    def allowed(self) -> str:
        """The bounds in words ("0 to 100", "> 0"), or "" when the type alone constrains the value."""
        bounds = self.bounds
        if "ge" in bounds and "le" in bounds:
            return f"{bounds['ge']:g} to {bounds['le']:g}"
        return ", ".join(f"{symbol} {bounds[name]:g}" for name, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="),
                                                                            ("lt", "<")) if name in bounds)

    @property
    def bounds(self) -> dict[str, float]:
        """The numeric bounds by name: ge, gt, le, lt (pydantic keeps each as an ``annotated_types`` marker)."""
        return {name: getattr(item, name) for item in self.info.metadata for name in ("ge", "gt", "le", "lt")
                if hasattr(item, name)}


def setting_fields(model: type[BaseModel] = Config) -> Iterator[SettingField]:
    """Every leaf setting of ``model`` in declaration order, with its default and full description."""
    yield from _leaves(model, model(), "", "")


def setting_field(key: str) -> SettingField:
    """The leaf of :class:`Config` at a dotted key (a key the schema does not have is a KeyError)."""
    return _config_fields()[key]


@cache
def _config_fields() -> dict[str, SettingField]:
    return {found.key: found for found in setting_fields()}


def _leaves(model: type[BaseModel], defaults: BaseModel, prefix: str, subject: str) -> Iterator[SettingField]:
    for name, info in model.model_fields.items():
        value = getattr(defaults, name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            # A section's description names it; a per-dimension policy's is the subject of its leaves ("CPU").
            yield from _leaves(annotation, value, f"{prefix}{name}.", (info.description or "") if prefix else "")
            continue
        if info.exclude:
            continue  # accepted only to be refused with a pointer (e.g. discounts.flat_pct): not a setting
        description = info.description or ""
        yield SettingField(f"{prefix}{name}", info, value, f"{subject} {description}" if subject else description)
