"""The rule set an audit runs: the bundled packs and the user's, less the disabled rules, with the user's
threshold overrides, each rule checked against its handler's parameters.

Loading and checking need no pandas or numpy (only the rule, column and handler declarations), so ``advisor rules
list|check|explain`` and an audit's early check of its rules answer before any data library loads.
"""

from __future__ import annotations

from pathlib import Path

from advisor.engine.actions import parameters_for, supported_kinds
from advisor.engine.policy import apply_rule_overrides
from advisor.engine.rules import LoadedRule, known_columns, load_rules
from advisor.errors import RuleError
from advisor.resources import resource_dir
from advisor.settings import Settings


def rule_directories(settings: Settings) -> list[Path]:
    return [resource_dir("rules"), *settings.rules.dirs]


def load_rule_set(settings: Settings) -> list[LoadedRule]:
    rules = load_rules(rule_directories(settings), known_columns(), settings.rules.disabled, parameters_for)
    rules = apply_rule_overrides(rules, settings.rules.overrides, parameters_for)
    for loaded in rules:
        if parameters_for(loaded.rule.action, loaded.rule.kind) is None:  # no handler of the action for the kind
            raise RuleError(f"{loaded.path}:{loaded.line}: rule {loaded.id!r}, field 'action': action "
                            f"{loaded.rule.action!r} does not apply to kind {loaded.rule.kind!r} (it applies "
                            f"to: {', '.join(supported_kinds(loaded.rule.action))})")
    return rules
