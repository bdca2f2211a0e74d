"""``advisor rules list|check|explain|columns|schema``: the rule packs."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from advisor.cli.floor import command_group, console, print_json
from advisor.cli.options import Format, FormatOpt
from advisor.errors import ConfigError
from advisor.safetext import markup
from advisor.settings import RulesConfig, Settings

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule

app = command_group("List, check and explain rule packs.\n\nExample: advisor rules explain ec2-idle")

# These commands read the rule packs and the declarations of columns and handlers: never the engine (pandas).
# These commands show the rule packs themselves, without advisor.toml's [rules].
RulesOpt = Annotated[list[Path] | None, typer.Option("--rules", help="An extra directory of rule packs (*.yaml); "
                                                     "repeatable.")]


def _rule_set(rules: list[Path] | None) -> list[LoadedRule]:
    from advisor.engine.ruleset import load_rule_set

    return load_rule_set(Settings(rules=RulesConfig(dirs=list(rules or []))))


@app.command("list")
def rules_list(rules: RulesOpt = None, output_format: FormatOpt = Format.table) -> None:
    """List every loaded rule with its kind, action and condition.

    Example: advisor rules list --rules ./my-rules
    """
    if output_format is Format.json:
        print_json([{"id": r.id, "kind": r.rule.kind, "action": r.rule.action, "group": r.rule.group,
                     "priority": r.rule.priority, "condition": r.describe_condition(),
                     "thresholds": r.rule.thresholds, "file": str(r.path), "line": r.line}
                    for r in _rule_set(rules)])
        return
    table = Table(title="Rules")
    table.add_column("id", no_wrap=True)
    for column in ("kind", "action", "group/priority", "condition", "thresholds", "file"):
        table.add_column(column, overflow="fold")
    for loaded in _rule_set(rules):
        r = loaded.rule
        thresholds = ", ".join(f"{k}={v:g}" for k, v in r.thresholds.items())
        table.add_row(r.id, r.kind, r.action, markup(f"{r.group}/{r.priority}"), markup(loaded.describe_condition()),
                      markup(thresholds), f"{loaded.path.name}:{loaded.line}")
    console().print(table)


@app.command("check")
def rules_check(paths: Annotated[list[Path], typer.Argument(help="Rule files or directories to validate.")]) -> None:
    """Validate rule packs and report the first problem with file, line, rule and field.

    Example: advisor rules check rules/ my-rules/gpu.yaml
    """
    from advisor.engine.actions import parameters_for
    from advisor.engine.rules import known_columns, load_rule_file, load_rules

    count = 0
    for path in paths:
        if path.is_dir():
            count += len(load_rules([path], known_columns(), parameters=parameters_for))
        elif path.is_file():
            count += len(load_rule_file(path, known_columns(), parameters_for))
        else:
            raise ConfigError(f"{path}: no such file or directory")
    console().print(f"[green]ok[/]: {count} rule(s) valid")


@app.command("explain")
def rules_explain(rule_id: Annotated[str, typer.Argument(help="The rule id, e.g. ec2-idle.")],
                  rules: RulesOpt = None) -> None:
    """Show what a rule checks, why, what it recommends, and its action's parameters with their defaults.

    Example: advisor rules explain ec2-overprovisioned
    """
    from advisor import kinds
    from advisor.engine.actions import parameters_for

    loaded_rules = {r.id: r for r in _rule_set(rules)}
    if rule_id not in loaded_rules:
        close = difflib.get_close_matches(rule_id, list(loaded_rules), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"unknown rule {rule_id!r}{hint}")
    loaded = loaded_rules[rule_id]
    r = loaded.rule
    console().print(f"[bold]{markup(r.id)}[/] — {markup(r.title)}  ({loaded.path}:{loaded.line})")
    console().print(f"kind: {r.kind} ({markup(kinds.get(r.kind).display_name)})   action: {r.action}   "
                    f"severity: {r.severity}   group: {markup(r.group)} (priority {r.priority})")
    console().print(f"fires when: {markup(loaded.describe_condition())}")
    if r.thresholds:
        console().print("thresholds: " + ", ".join(f"{k}={v:g}" for k, v in r.thresholds.items()))
    model = parameters_for(r.action, r.kind)
    if model is not None:
        console().print(f"parameters of the {r.action} handler:")
        for name, field in model.model_fields.items():
            default = "unset" if field.default is None else f"{field.default:g}"
            value = f"{r.thresholds[name]:g} (default {default})" if name in r.thresholds else f"default ({default})"
            console().print(markup(f"  {name} = {value}: {field.description}"), highlight=False)
    if r.description:
        console().print(markup(" ".join(r.description.split())))


@app.command("schema")
def rules_schema() -> None:
    """Print a JSON Schema of a rule pack, for editors: the rule fields, the kinds and columns, and each action
    handler's parameters (defaults, bounds, descriptions) under thresholds.

    Example: advisor rules schema > rule-pack.schema.json
    """
    import json

    from advisor import kinds
    from advisor.engine.actions import handler_parameters
    from advisor.engine.rules import known_columns, pack_schema

    typer.echo(json.dumps(pack_schema(handler_parameters(), kinds.ids(), known_columns()), indent=2))


@app.command("columns")
def rules_columns() -> None:
    """List the feature columns a rule condition may use.

    Example: advisor rules columns
    """
    from advisor.engine.rules import known_columns

    for name in known_columns():
        console().print(name, highlight=False)
