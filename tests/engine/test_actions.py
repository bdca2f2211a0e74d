"""The action registry: every action a rule may name has a handler, and a rule pairing an action with a kind it
does not apply to is refused at load time with its file and line."""

import importlib
import inspect
import re
import subprocess
import sys
from typing import get_args

import pytest

from advisor.engine.actions import Parameters, handler_for, registered_actions, registry, supported_kinds
from advisor.engine.pipeline import load_rule_set
from advisor.engine.rules import Action
from advisor.errors import RuleError
from advisor.settings import RulesConfig, Settings


def test_every_action_has_a_handler_and_every_handler_an_action():
    assert registered_actions() == set(get_args(Action))


def test_handlers_are_chosen_by_kind_then_for_any_kind():
    assert handler_for("use_spot", "ec2_instance").__name__ == "ec2_spot"
    assert handler_for("use_spot", "sagemaker_training_job").__name__ == "training_spot"
    assert handler_for("stop", "sagemaker_notebook").__name__ == "stop_notebook"
    assert handler_for("stop", "ec2_instance").__name__ == "stop"
    assert handler_for("use_spot", "ebs_volume") is None
    assert supported_kinds("stop") == ["any"]


def test_an_action_on_the_wrong_kind_is_refused_with_file_and_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: spot-disk\n    title: t\n    kind: ebs_volume\n"
                                       "    action: use_spot\n    when: [volume_type, '==', gp2]\n    rationale: r\n")
    with pytest.raises(RuleError, match=r"bad.yaml:2: rule 'spot-disk', field 'action': action 'use_spot' does "
                                        r"not apply to kind 'ebs_volume' \(it applies to: batch_compute"):
        load_rule_set(Settings(rules=RulesConfig(dirs=[tmp_path])))


IMPLEMENTATIONS = ("basic", "resize", "sagemaker", "spot", "storage")


def test_every_handler_in_the_registry_loads_and_every_handler_function_is_registered():
    """The registry names each handler as "module:function": each resolves, and no module defines a handler (a
    public function of (ctx, rule, rows)) that the registry leaves out."""
    named = {spec.function for spec in registry.HANDLERS}
    for spec in registry.HANDLERS:
        assert callable(spec.load()), spec
    defined = set()
    for module_name in IMPLEMENTATIONS:
        module = importlib.import_module(f"advisor.engine.actions.{module_name}")
        defined |= {f"{module_name}:{name}" for name, function in inspect.getmembers(module, inspect.isfunction)
                    if function.__module__ == module.__name__ and not name.startswith("_")
                    and list(inspect.signature(function).parameters) == ["ctx", "rule", "rows"]}
    assert defined == named


def test_the_registry_hands_out_handlers_without_importing_them_until_asked():
    code = ("import sys\nfrom advisor.engine.actions import handler_parameters, parameters_for\n"
            "assert parameters_for('use_spot', 'ec2_instance').__name__ == 'SpotPoolParameters'\n"
            "assert handler_parameters()\n"
            "print(sorted(m for m in sys.modules if m.startswith('advisor.engine.actions.') or m == 'pandas'))\n"
            "from advisor.engine.actions import handler_for\n"
            "assert handler_for('use_spot', 'ec2_instance').__name__ == 'ec2_spot'\n"
            "print('advisor.engine.actions.spot' in sys.modules, 'pandas' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    before, after = run.stdout.splitlines()
    assert before == "['advisor.engine.actions.params', 'advisor.engine.actions.registry']"
    assert after == "True True"


def test_each_module_reads_the_parameter_models_the_registry_declares_for_its_handlers():
    """The registry pairs a handler with its parameter model; the handler reads its values with ``Model.of(rule)``.
    Per module, the models read are the models declared, so a rule's thresholds are checked against the model its
    handler really reads."""
    for module_name in IMPLEMENTATIONS:
        declared = {spec.parameters.__name__ for spec in registry.HANDLERS
                    if spec.function.startswith(f"{module_name}:") and spec.parameters is not Parameters}
        source = inspect.getsource(importlib.import_module(f"advisor.engine.actions.{module_name}"))
        read = set(re.findall(r"\b(\w+Parameters)\.of\(", source))
        assert read == declared, module_name
