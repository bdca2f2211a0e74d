"""Declarative rule packs: YAML files validated at load, evaluated vectorized over the features frame.

A pack is a YAML file with a ``rules:`` list. Each rule names the resource kind it applies to, a condition over
features columns, the action to take and a rationale template. Conditions are data, never code::

    when:
      all:
        - [cpu_p99, "<=", 3]
        - any:
            - [network_p99, "<", 5000]
            - [network_p99, is_null]

Every problem (bad YAML, unknown field, unknown column, bad operator, missing field) is reported with the file,
the line, the rule id and the field. Given the action handlers' parameter models, loading also checks each rule's
``thresholds``: every name must be one the condition uses (``$name``) or one the handler declares, within the
handler's bounds, so a misspelt threshold is an error instead of a silent default.
"""

from __future__ import annotations

import difflib
import functools
import math
import operator
import string
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from advisor import kinds
from advisor.engine.columns import (
    DERIVED_COLUMNS,
    DERIVED_METRICS,
    FORECAST_COLUMNS,
    FORECAST_METRICS,
    SPEC_COLUMNS,
    STAT_NAMES,
)
from advisor.errors import RuleError
from advisor.model import INVENTORY_COLUMNS, Metric

if TYPE_CHECKING:  # evaluating rules needs them, loading and checking a pack does not (start-up)
    import numpy as np
    import pandas as pd

# Every action has a handler in advisor.engine.actions (per resource kind); see docs/rules.md for what each does.
Action = Literal[
    "stop", "terminate", "delete", "downsize", "upsize", "modernize", "install_agent", "info",
    "rightsize_accelerator", "migrate_accelerator", "use_spot", "modify_volume", "add_instance", "autoscale",
    "scale_to_zero", "rightsize_variant", "enable_early_stopping", "add_auto_stop",
]
COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
               "==": operator.eq, "!=": operator.ne}
UNARY = {"is_null", "not_null"}
MEMBERSHIP = {"in", "not_in"}
OPERATORS = tuple(COMPARISONS) + tuple(sorted(UNARY)) + tuple(sorted(MEMBERSHIP))
# (action, kind) -> the parameter model of the handler that will run (None: no handler; the caller reports that)
ParameterLookup = Callable[[str, str], type[BaseModel] | None]
INVENTORY_FEATURES = tuple(c for c in INVENTORY_COLUMNS if c not in ("resource_id", "tags", "attached_to"))


def known_columns() -> list[str]:
    """Every column a rule may name (validated at rule load time): the features frame's (``columns.py``) and the
    inventory's."""
    names = [f"{m}_{s}" for m in (*(m.value for m in Metric), *DERIVED_METRICS) for s in (*STAT_NAMES, "coverage")]
    names += [f"{m}_{c}" for m in FORECAST_METRICS for c in (*FORECAST_COLUMNS, "demand", "forecast_held")]
    return sorted({*names, *SPEC_COLUMNS, *INVENTORY_FEATURES, *DERIVED_COLUMNS})


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    kind: str = Field(description="the resource kind (advisor.kinds)")
    action: Action
    when: Any
    rationale: str
    severity: Literal["low", "medium", "high"] = "medium"
    group: str = Field("default", description="a resource gets at most one finding per group")
    priority: int = Field(0, description="within a group, the firing rule with the highest priority wins")
    description: str = ""
    thresholds: dict[str, float] = Field(default_factory=dict,
                                         description="named numbers the condition refers to as $name")

    @field_validator("kind")
    @classmethod
    def _registered_kind(cls, value: str) -> str:
        if value not in kinds.ids():
            raise ValueError(f"unknown resource kind {value!r} (known: {', '.join(kinds.ids())})")
        return value

    @field_validator("rationale")
    @classmethod
    def _plain_fields_only(cls, value: str) -> str:
        for _, name, _, _ in string.Formatter().parse(value):
            if name is not None and not name.isidentifier():
                raise ValueError(f"template field {{{name}}} must be a plain column name")
        return value


class RulePack(BaseModel):
    """A rule pack file."""

    model_config = ConfigDict(extra="forbid", title="advisor rule pack")

    rules: list[Rule]


@dataclass(frozen=True)
class LoadedRule:
    rule: Rule
    path: Path
    line: int
    condition: Condition

    @property
    def id(self) -> str:
        return self.rule.id

    def describe_condition(self) -> str:
        return self.condition.describe(self.rule.thresholds)


class Condition:
    """A validated condition tree: ('all'|'any', [children]) | ('not', child) | (column, op, value)."""

    def __init__(self, kind: str, children: list[Condition] | None = None, column: str | None = None,
                 op: str | None = None, value: Any = None):
        self.kind, self.children, self.column, self.op, self.value = kind, children or [], column, op, value

    def threshold_names(self) -> set[str]:
        """The ``$name`` thresholds this condition refers to."""
        if self.kind == "test":
            return {self.value[1:]} if isinstance(self.value, str) and self.value.startswith("$") else set()
        return set().union(*(c.threshold_names() for c in self.children))

    def columns(self) -> set[str]:
        if self.kind == "test":
            extra = {self.value["column"]} if isinstance(self.value, dict) else set()
            return ({self.column} if self.column is not None else set()) | extra
        return set().union(*(c.columns() for c in self.children)) if self.children else set()

    def evaluate(self, features: pd.DataFrame, thresholds: dict[str, float]) -> np.ndarray:
        import numpy as np
        import pandas as pd

        if self.kind == "all":
            return np.logical_and.reduce([c.evaluate(features, thresholds) for c in self.children])
        if self.kind == "any":
            return np.logical_or.reduce([c.evaluate(features, thresholds) for c in self.children])
        if self.kind == "not":
            return ~self.children[0].evaluate(features, thresholds)
        series = features[self.column] if self.column in features else pd.Series(np.nan, index=features.index)
        if self.op == "is_null":
            return series.isna().to_numpy()
        if self.op == "not_null":
            return series.notna().to_numpy()
        value = self._resolve(features, thresholds)
        if self.op in MEMBERSHIP:
            hit = series.isin(value).to_numpy()
            return hit if self.op == "in" else ~hit & series.notna().to_numpy()
        assert self.op is not None, "a test condition always has an operator (set by the parser)"
        result = COMPARISONS[self.op](series, value)
        # A missing value never satisfies a comparison (NaN compares false; None/NA become False here).
        return np.asarray(result.to_numpy(dtype=bool, na_value=False), dtype=bool)

    def describe(self, thresholds: dict[str, float]) -> str:
        if self.kind in ("all", "any"):
            joined = f" {'and' if self.kind == 'all' else 'or'} ".join(c.describe(thresholds) for c in self.children)
            return f"({joined})" if len(self.children) > 1 else joined
        if self.kind == "not":
            return f"not {self.children[0].describe(thresholds)}"
        if self.op in UNARY:
            return f"{self.column} {self.op.replace('_', ' ')}"
        value = self.value
        if isinstance(value, str) and value.startswith("$"):
            value = thresholds.get(value[1:], value)
        elif isinstance(value, dict):
            value = value["column"]
        if isinstance(value, float):
            value = f"{value:g}"
        return f"{self.column} {self.op} {value}"

    def _resolve(self, features: pd.DataFrame, thresholds: dict[str, float]) -> Any:
        if isinstance(self.value, dict):
            return features.get(self.value["column"], math.nan)
        if isinstance(self.value, str) and self.value.startswith("$"):
            return thresholds[self.value[1:]]
        return self.value


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A SafeLoader (libyaml's when available) that remembers the line of every mapping and sequence (as
    ``__line__`` keys/attrs)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return mapping


class _LineList(list):
    line: int = 0


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list:
    items = _LineList(loader.construct_sequence(node, deep=True))
    items.line = node.start_mark.line + 1
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_rule_file(path: Path, known_columns: Iterable[str],
                   parameters: ParameterLookup | None = None) -> list[LoadedRule]:
    """Parse and validate one pack; raise RuleError naming file, line, rule and field on any problem.

    With ``parameters``, each rule's thresholds are checked against its condition and its handler's parameters.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rule file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise RuleError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    return list(_parse_rule_file(path, text, frozenset(known_columns), parameters))


@functools.lru_cache(maxsize=64)
def _parse_rule_file(path: Path, text: str, known: frozenset[str],
                     parameters: ParameterLookup | None) -> tuple[LoadedRule, ...]:
    """The rules of one pack's text, validated. Cached on the text itself (not the file's time stamp), so an
    audit repeated in one process (calibration, the backtest, a schedule) parses each pack once, and an edited
    pack is parsed again; a pack that fails raises every time (errors are not cached). The loaded rules are
    frozen, so sharing them is safe."""
    try:
        _refuse_aliases(path, text)
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        raise RuleError(f"{path}{line}: not valid YAML: {exc.problem}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RuleError(f"{path}:1: a rule pack must be a mapping with a 'rules:' list")
    loaded, known_set = [], set(known)
    for raw in document["rules"]:
        if not isinstance(raw, dict):
            raise RuleError(f"{path}:{getattr(document['rules'], 'line', 1)}: each rule must be a mapping")
        loaded.append(_validate_rule(path, raw, known_set, parameters))
    return tuple(loaded)


def _refuse_aliases(path: Path, text: str) -> None:
    """Anchors and aliases are refused before anything is built: nested aliases expand exponentially (a few
    hundred bytes become gigabytes, "billion laughs"), and a rule pack never needs them."""
    for event in yaml.parse(text, Loader=_LineLoader):
        name = getattr(event, "anchor", None)
        if name is not None:
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            raise RuleError(f"{path}:{line}: YAML anchors and aliases are not allowed in rule "
                            f"packs (found {'*' if isinstance(event, yaml.AliasEvent) else '&'}{name}); "
                            "write each value out")


def _validate_rule(path: Path, raw: dict, known: set[str], parameters: ParameterLookup | None) -> LoadedRule:
    line = raw.get("__line__", 1)
    lines = raw.get("__lines__", {})
    data = {k: _strip_lines(v) for k, v in raw.items() if k not in ("__line__", "__lines__")}
    rule_id = data.get("id", "?")
    try:
        rule = Rule.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "?"
        field_line = lines.get(str(error["loc"][0]), line) if error["loc"] else line
        message = error["msg"]
        if error["type"] == "missing":
            message = "required field is missing"
        elif error["type"] == "extra_forbidden":
            message = f"unknown field (allowed: {', '.join(Rule.model_fields)})"
        raise RuleError(f"{path}:{field_line}: rule {rule_id!r}, field {field!r}: {message}") from exc
    condition = _parse_condition(raw["when"], f"{path}:{lines.get('when', line)}: rule {rule_id!r}, field 'when'",
                                 known, rule.thresholds)
    template_fields = {name for _, name, _, _ in string.Formatter().parse(rule.rationale) if name}
    unknown = sorted(template_fields - known)
    if unknown:
        raise RuleError(f"{path}:{lines.get('rationale', line)}: rule {rule_id!r}, field 'rationale': "
                        f"unknown column {unknown[0]!r}{_suggest(unknown[0], known)}")
    loaded = LoadedRule(rule=rule, path=path, line=line, condition=condition)
    model = parameters(rule.action, rule.kind) if parameters else None
    problem = threshold_problem(loaded, model) if model else None
    if problem:
        name, message = problem
        threshold_lines = raw["thresholds"].get("__lines__", {}) if isinstance(raw.get("thresholds"), dict) else {}
        where = threshold_lines.get(name, lines.get("thresholds", line))
        raise RuleError(f"{path}:{where}: rule {rule_id!r}, field 'thresholds.{name}': {message}")
    return loaded


def threshold_problem(loaded: LoadedRule, model: type[BaseModel],
                      values: Mapping[str, float] | None = None) -> tuple[str, str] | None:
    """The first of ``values`` (default: the rule's thresholds) that neither the condition uses nor the handler's
    parameter ``model`` declares, or that is out of the model's bounds: ``(name, message)``; None if all are fine."""
    used = loaded.condition.threshold_names()
    declared = set(model.model_fields)
    for name, value in (loaded.rule.thresholds if values is None else values).items():
        if name in declared:
            try:
                model.model_validate({name: value})
            except ValidationError as exc:
                return name, exc.errors()[0]["msg"]
        elif name not in used:
            allowed = sorted(used | declared)
            return name, (f"unknown threshold: the condition does not use ${name} and the {loaded.rule.action!r} "
                          f"handler does not read it{_suggest(name, set(allowed))} (known: {', '.join(allowed)})")
    return None


def _parse_condition(node: Any, where: str, known: set[str], thresholds: dict[str, float]) -> Condition:
    line = getattr(node, "line", None) or (node.get("__line__") if isinstance(node, dict) else None)
    here = _at_line(where, line)
    if isinstance(node, dict):
        keys = [k for k in node if not k.startswith("__")]
        if len(keys) != 1 or keys[0] not in ("all", "any", "not"):
            if {"column", "op"} <= set(keys):
                return _parse_test([node["column"], node["op"], *([node["value"]] if "value" in node else [])],
                                   here, known, thresholds)
            raise RuleError(f"{here}: a condition is 'all:', 'any:', 'not:', a [column, op, value] list or a "
                            f"{{column, op, value}} mapping; got keys {keys}")
        key = keys[0]
        if key == "not":
            return Condition("not", [_parse_condition(node["not"], where, known, thresholds)])
        children = node[key]
        if not isinstance(children, list) or not children:
            raise RuleError(f"{here}: '{key}:' needs a non-empty list of conditions")
        return Condition(key, [_parse_condition(c, where, known, thresholds) for c in children])
    if isinstance(node, list):
        return _parse_test(list(node), here, known, thresholds)
    raise RuleError(f"{here}: expected a condition, got {node!r}")


def _parse_test(items: list, where: str, known: set[str], thresholds: dict[str, float]) -> Condition:
    if len(items) not in (2, 3) or not isinstance(items[0], str):
        raise RuleError(f"{where}: a test is [column, op] or [column, op, value], got {items!r}")
    column, op = items[0], items[1]
    if column not in known:
        raise RuleError(f"{where}: unknown column {column!r}{_suggest(column, known)}")
    if op not in OPERATORS:
        raise RuleError(f"{where}: bad operator {op!r} for {column!r} (use one of {', '.join(OPERATORS)})")
    if op in UNARY:
        if len(items) != 2:
            raise RuleError(f"{where}: operator {op!r} takes no value")
        return Condition("test", column=column, op=op)
    if len(items) != 3:
        raise RuleError(f"{where}: operator {op!r} on {column!r} needs a value")
    value = _strip_lines(items[2])
    if op in MEMBERSHIP and not isinstance(value, list):
        raise RuleError(f"{where}: operator {op!r} needs a list value")
    if isinstance(value, dict):
        if set(value) != {"column"} or value["column"] not in known:
            raise RuleError(f"{where}: a column reference is {{column: NAME}} with a known column; got {value!r}")
    elif isinstance(value, str) and value.startswith("$") and value[1:] not in thresholds:
        raise RuleError(f"{where}: threshold {value!r} is not defined under 'thresholds:'")
    elif (op in COMPARISONS and op not in ("==", "!=") and not isinstance(value, int | float)
          and not (isinstance(value, str) and value.startswith("$"))):
        raise RuleError(f"{where}: operator {op!r} on {column!r} needs a number, got {value!r}")
    return Condition("test", column=column, op=op, value=value)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k not in ("__line__", "__lines__")}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _at_line(where: str, line: int | None) -> str:
    if line is None:
        return where
    path, _, rest = where.partition(": ")
    return f"{path.rsplit(':', 1)[0]}:{line}: {rest}"


def _suggest(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def load_rules(directories: Iterable[Path], known_columns: Iterable[str], disabled: Iterable[str] = (),
               parameters: ParameterLookup | None = None) -> list[LoadedRule]:
    """Load every ``*.yaml``/``*.yml`` pack in the directories; rule ids must be unique across packs."""
    known = set(known_columns)
    rules: list[LoadedRule] = []
    seen: dict[str, LoadedRule] = {}
    for directory in directories:
        directory = Path(directory)
        if not directory.is_dir():
            raise RuleError(f"{directory}: rules directory does not exist")
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            for loaded in load_rule_file(path, known, parameters):
                if loaded.id in seen:
                    first = seen[loaded.id]
                    raise RuleError(f"{path}:{loaded.line}: rule {loaded.id!r} is already defined at "
                                    f"{first.path}:{first.line}")
                seen[loaded.id] = loaded
                rules.append(loaded)
    unknown = sorted(set(disabled) - set(seen))
    if unknown:
        raise RuleError(f"cannot disable unknown rule {unknown[0]!r}{_suggest(unknown[0], set(seen))}")
    return [r for r in rules if r.id not in set(disabled)]


def evaluate_rules(rules: list[LoadedRule], features: pd.DataFrame) -> pd.DataFrame:
    """Which rule fires for which resource: one row per (resource, rule) kept after group priority."""
    import pandas as pd

    fired: dict[str, list[Any]] = {"resource_id": [], "rule": [], "group": [], "priority": []}
    by_kind = {str(kind): rows for kind, rows in features.groupby("kind", sort=False, observed=True)}
    for loaded in rules:
        subset = by_kind.get(loaded.rule.kind)
        if subset is None or subset.empty:
            continue
        hits = subset.index[loaded.condition.evaluate(subset, loaded.rule.thresholds)].tolist()
        fired["resource_id"] += hits
        for column, value in (("rule", loaded.id), ("group", loaded.rule.group), ("priority", loaded.rule.priority)):
            fired[column] += [value] * len(hits)
    if not fired["resource_id"]:
        return pd.DataFrame(columns=list(fired))
    frame = pd.DataFrame(fired)
    frame = frame.sort_values(["resource_id", "group", "priority"], ascending=[True, True, False], kind="stable")
    return frame.drop_duplicates(["resource_id", "group"], keep="first").reset_index(drop=True)


def pack_schema(handlers: Iterable[tuple[str, str | None, type[BaseModel]]], kind_ids: Iterable[str],
                columns: Iterable[str]) -> dict[str, Any]:
    """A JSON Schema of a rule pack for editors, generated from the models: the rule's fields, the known kinds
    and columns, the condition grammar, and per ``(action, kind)`` the parameters its handler reads under
    ``thresholds`` (with defaults, bounds and descriptions). ``handlers`` are ``(action, kind or None, model)``.
    """
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **RulePack.model_json_schema()}
    rule = schema["$defs"]["Rule"]
    rule["properties"]["kind"] = {"enum": list(kind_ids), "type": "string", "description": "the resource kind"}
    rule["properties"]["when"] = {"$ref": "#/$defs/Condition"}
    schema["$defs"]["Condition"] = _condition_schema(sorted(columns))
    rule["allOf"] = [_parameters_clause(action, kind, model) for action, kind, model in handlers]
    return schema


def _condition_schema(columns: list[str]) -> dict[str, Any]:
    ref = {"$ref": "#/$defs/Condition"}
    test = {"type": "array", "minItems": 2, "maxItems": 3,
            "prefixItems": [{"enum": columns}, {"enum": list(OPERATORS)}, {}]}
    mapping = {"type": "object", "required": ["column", "op"], "additionalProperties": False,
               "properties": {"column": {"enum": columns}, "op": {"enum": list(OPERATORS)}, "value": {}}}
    groups = [{"type": "object", "required": [key], "additionalProperties": False,
               "properties": {key: {"type": "array", "minItems": 1, "items": ref}}} for key in ("all", "any")]
    negation = {"type": "object", "required": ["not"], "additionalProperties": False, "properties": {"not": ref}}
    return {"description": "all/any of conditions, not a condition, [column, op, value] or {column, op, value}; a "
                           "value may be a number, text, a list (in, not_in), $threshold or {column: NAME}",
            "anyOf": [*groups, negation, test, mapping]}


def _parameters_clause(action: str, kind: str | None, model: type[BaseModel]) -> dict[str, Any]:
    match: dict[str, Any] = {"action": {"const": action}}
    if kind is not None:
        match["kind"] = {"const": kind}
    properties = {}
    for name, prop in model.model_json_schema()["properties"].items():
        if "anyOf" in prop:  # an optional parameter: thresholds hold numbers only, never null
            prop = {**next(p for p in prop.pop("anyOf") if p.get("type") != "null"), **prop}
        if prop.get("default", 0) is None:
            del prop["default"]
        properties[name] = prop
    return {"if": {"properties": match, "required": list(match)},
            "then": {"properties": {"thresholds": {"properties": properties}}}}


def render_rationale(loaded: LoadedRule, row: Mapping[Hashable, Any]) -> str:
    """Fill the rationale template from a features row; missing values print as 'n/a'."""
    values = {name: row.get(name) for _, name, _, _ in string.Formatter().parse(loaded.rule.rationale) if name}
    safe = {k: (_NA if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in values.items()}
    try:
        return loaded.rule.rationale.format_map(safe)
    except (ValueError, TypeError):
        return loaded.rule.rationale.format_map({k: str(v) for k, v in safe.items()})


class _NotAvailable:
    def __format__(self, spec: str) -> str:
        return "n/a"

    def __str__(self) -> str:
        return "n/a"


_NA = _NotAvailable()
