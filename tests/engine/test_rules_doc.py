"""docs/rules.md documents every bundled rule, every action and every derived feature column."""

import re
from pathlib import Path
from typing import get_args

from advisor.engine.columns import DERIVED_COLUMNS
from advisor.engine.pipeline import load_rule_set
from advisor.engine.rules import Action
from advisor.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_every_rule_has_a_section():
    sections = set(re.findall(r"^#### `([a-z0-9-]+)`", DOC.read_text(encoding="utf-8"), flags=re.M))
    assert {r.id for r in load_rule_set(Settings())} == sections


def test_every_action_and_derived_column_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for action in get_args(Action):
        assert f"`{action}`" in text, action
    for column in DERIVED_COLUMNS:
        assert f"`{column}`" in text, column


def test_every_threshold_is_explained():
    text = DOC.read_text(encoding="utf-8")
    for loaded in load_rule_set(Settings()):
        for name in loaded.rule.thresholds:
            assert f"`{name}`" in text, (loaded.id, name)
