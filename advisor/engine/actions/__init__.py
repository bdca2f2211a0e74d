"""Action handlers: one small function per (action, resource kind), listed in ``registry.py`` with the parameter
model (``params.py``) it reads.

Importing this package loads the registry and the parameter models only; a handler's module (and pandas) loads the
first time :func:`handler_for` hands it out. ``advisor.engine.rules.Action`` lists the action names a rule may use;
``tests/engine/test_actions.py`` checks that each has a handler. What a handler receives and returns
(``ActionContext``, ``Proposal``) is in ``base.py``.
"""

from advisor.engine.actions.params import Parameters
from advisor.engine.actions.registry import (
    handler_for,
    handler_parameters,
    parameters_for,
    registered_actions,
    supported_kinds,
)

__all__ = ["Parameters", "handler_for", "handler_parameters", "parameters_for", "registered_actions",
           "supported_kinds"]
