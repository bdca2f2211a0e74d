"""Which handler runs an action on a resource kind, and the parameters it reads: declared as data.

A handler is named ``"module:function"`` (a module of this package) and imported the first time it runs, as
``advisor.kinds`` names its listers: loading and checking a rule pack (``advisor rules list|check|explain|schema``)
reads only this table and the parameter models (``params.py``), never the implementations and the pandas and numpy
they stand on. Adding a handler: its function in a module here, its parameter model in ``params.py``, a line below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.engine.actions.params import (
    AcceleratorParameters,
    AutoscaleParameters,
    AutoStopParameters,
    EarlyStoppingParameters,
    MigrationParameters,
    Parameters,
    SpotPoolParameters,
    VariantParameters,
    VolumeParameters,
)
from advisor.model import Kind

if TYPE_CHECKING:
    from advisor.engine.actions.base import Handler


@dataclass(frozen=True)
class HandlerSpec:
    """The handler of ``action`` on ``kinds`` (none: any kind, unless a handler for the kind itself exists)."""

    action: str
    function: str  # "module:function" in this package: the function taking (ActionContext, LoadedRule, rows)
    kinds: tuple[str, ...] = ()
    parameters: type[Parameters] = Parameters

    def load(self) -> Handler:
        module, _, name = self.function.partition(":")
        handler: Handler = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        return handler


SIZED_KINDS = (Kind.EC2_INSTANCE, Kind.SAGEMAKER_ENDPOINT, Kind.SAGEMAKER_TRAINING_JOB, Kind.SAGEMAKER_NOTEBOOK)

HANDLERS = (
    HandlerSpec("stop", "basic:stop"),
    HandlerSpec("terminate", "basic:stop"),
    HandlerSpec("stop", "basic:stop_notebook", (Kind.SAGEMAKER_NOTEBOOK,)),
    HandlerSpec("add_auto_stop", "basic:add_auto_stop", (Kind.SAGEMAKER_NOTEBOOK,), AutoStopParameters),
    HandlerSpec("install_agent", "basic:no_change"),
    HandlerSpec("info", "basic:no_change"),
    HandlerSpec("downsize", "resize:resize", SIZED_KINDS),
    HandlerSpec("upsize", "resize:resize", SIZED_KINDS),
    HandlerSpec("modernize", "resize:resize", SIZED_KINDS),
    HandlerSpec("rightsize_accelerator", "resize:rightsize_accelerator",
                (Kind.EC2_INSTANCE, Kind.SAGEMAKER_ENDPOINT, Kind.SAGEMAKER_TRAINING_JOB), AcceleratorParameters),
    HandlerSpec("migrate_accelerator", "resize:migrate_accelerator", (Kind.EC2_INSTANCE, Kind.SAGEMAKER_ENDPOINT),
                MigrationParameters),
    HandlerSpec("add_instance", "sagemaker:add_instance", (Kind.SAGEMAKER_ENDPOINT,)),
    HandlerSpec("autoscale", "sagemaker:autoscale", (Kind.SAGEMAKER_ENDPOINT,), AutoscaleParameters),
    HandlerSpec("delete", "sagemaker:delete_endpoint", (Kind.SAGEMAKER_ENDPOINT,)),
    HandlerSpec("scale_to_zero", "sagemaker:scale_to_zero", (Kind.SAGEMAKER_ENDPOINT,)),
    HandlerSpec("rightsize_variant", "sagemaker:rightsize_variant", (Kind.SAGEMAKER_ENDPOINT,), VariantParameters),
    HandlerSpec("enable_early_stopping", "sagemaker:enable_early_stopping", (Kind.SAGEMAKER_TUNING_JOB,),
                EarlyStoppingParameters),
    HandlerSpec("use_spot", "spot:ec2_spot", (Kind.EC2_INSTANCE,), SpotPoolParameters),
    HandlerSpec("use_spot", "spot:training_spot", (Kind.SAGEMAKER_TRAINING_JOB,)),
    HandlerSpec("info", "spot:training_spot_realised", (Kind.SAGEMAKER_TRAINING_JOB,)),
    HandlerSpec("use_spot", "spot:batch_spot", (Kind.BATCH_COMPUTE_ENVIRONMENT,), SpotPoolParameters),
    HandlerSpec("modify_volume", "storage:modify_volume", (Kind.EBS_VOLUME,), VolumeParameters),
    HandlerSpec("delete", "storage:delete_volume", (Kind.EBS_VOLUME,)),
)


def _by_key(specs: tuple[HandlerSpec, ...]) -> dict[tuple[str, str | None], HandlerSpec]:
    found: dict[tuple[str, str | None], HandlerSpec] = {}
    for spec in specs:
        for kind in spec.kinds or (None,):
            key = (spec.action, None if kind is None else str(kind))
            if key in found:
                raise RuntimeError(f"two handlers for action {spec.action!r} on {kind or 'any kind'}")
            found[key] = spec
    return found


_HANDLERS = _by_key(HANDLERS)


def _entry(action: str, kind: str) -> HandlerSpec | None:
    return _HANDLERS.get((action, str(kind))) or _HANDLERS.get((action, None))


def handler_for(action: str, kind: str) -> Handler | None:
    """The handler of ``action`` on ``kind``, imported on first use (None: no such handler)."""
    entry = _entry(action, kind)
    return entry.load() if entry else None


def parameters_for(action: str, kind: str) -> type[Parameters] | None:
    """The parameter model of the handler of ``action`` on ``kind`` (None: no such handler)."""
    entry = _entry(action, kind)
    return entry.parameters if entry else None


def handler_parameters() -> list[tuple[str, str | None, type[Parameters]]]:
    """(action, kind or None for any kind, parameter model) of every handler, sorted."""
    return sorted(((a, k, spec.parameters) for (a, k), spec in _HANDLERS.items()), key=lambda e: (e[0], e[1] or ""))


def registered_actions() -> set[str]:
    return {action for action, _ in _HANDLERS}


def supported_kinds(action: str) -> list[str]:
    """Kinds a handler exists for (["any"] for a handler of every kind)."""
    kinds = sorted(kind or "any" for a, kind in _HANDLERS if a == action)
    return ["any"] if "any" in kinds else kinds
