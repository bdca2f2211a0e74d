"""The registry of resource kinds: one module per kind declares it, generic code reads it from here.

Bundled kinds are registered in the order their inventory is read. A kind may also be registered at run time
(:func:`register`); everything that validates a ``kind`` (inventory files, rule packs) accepts it from then on.
See ``docs/extending.md`` for adding one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from advisor.kinds import batch, ebs, ec2, sagemaker_endpoint, sagemaker_notebook, sagemaker_training, sagemaker_tuning
from advisor.kinds.base import CloudWatchMetric, ResourceKind, Scale

__all__ = ["CloudWatchMetric", "ResourceKind", "Scale", "all_kinds", "get", "ids", "register", "registered"]

_REGISTRY: dict[str, ResourceKind] = {}


def register(kind: ResourceKind) -> ResourceKind:
    """Add a kind; its id must be new."""
    if kind.id in _REGISTRY:
        raise ValueError(f"resource kind {kind.id!r} is already registered")
    _REGISTRY[kind.id] = kind
    return kind


@contextmanager
def registered(kind: ResourceKind) -> Iterator[ResourceKind]:
    """A kind registered for the duration of a ``with`` block (tests, plug-ins tried out)."""
    register(kind)
    try:
        yield kind
    finally:
        del _REGISTRY[kind.id]


def get(kind_id: str) -> ResourceKind:
    """The declaration of ``kind_id`` (KeyError naming the known ids when there is none)."""
    try:
        return _REGISTRY[str(kind_id)]
    except KeyError:
        raise KeyError(f"unknown resource kind {kind_id!r} (known: {', '.join(ids())})") from None


def all_kinds() -> tuple[ResourceKind, ...]:
    return tuple(_REGISTRY.values())


def ids() -> list[str]:
    return list(_REGISTRY)


for _module in (ec2, ebs, sagemaker_endpoint, sagemaker_training, sagemaker_tuning, sagemaker_notebook, batch):
    register(_module.KIND)
