"""Action handlers: one small function per (action, resource kind), registered with :func:`handles`.

Importing this package registers every bundled handler. ``advisor.engine.rules.Action`` lists the action names a
rule may use; ``tests/engine/test_actions.py`` checks that each has a handler.
"""

from advisor.engine.actions import basic, resize, sagemaker, spot, storage  # noqa: F401  (registers handlers)
from advisor.engine.actions.base import (
    ActionContext,
    Parameters,
    Proposal,
    handler_for,
    handler_parameters,
    parameters_for,
    registered_actions,
    supported_kinds,
)

__all__ = ["ActionContext", "Parameters", "Proposal", "handler_for", "handler_parameters", "parameters_for",
           "registered_actions", "supported_kinds"]
