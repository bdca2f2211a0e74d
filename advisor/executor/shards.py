"""Shards of a run: the inventory grouped by (account, region), the unit the analysis can split along.

Every feature is a function of one resource except the traffic shares of a SageMaker endpoint's variants, which
the features group by endpoint name: shards that share an endpoint name are joined, so the variants of one
endpoint are always analysed together (as they are in one process).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from advisor.model import Kind


@dataclass(frozen=True)
class Shard:
    """Some (account, region) pairs and the resources of the run's inventory that sit in them."""

    places: tuple[tuple[str, str], ...]
    resource_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        return ", ".join(f"{account}/{region}" for account, region in self.places)


def plan_shards(inventory: pd.DataFrame) -> list[Shard]:
    """The shards of ``inventory`` (normalized: every row has an account and a region), largest first (so a
    pool starts the longest tasks first), then by their places."""
    places = list(zip(inventory["account"].astype(str), inventory["region"].astype(str), strict=True))
    keys = sorted(set(places))
    parent = {key: key for key in keys}

    def root(key: tuple[str, str]) -> tuple[str, str]:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    endpoints = (inventory["kind"] == Kind.SAGEMAKER_ENDPOINT) & inventory["endpoint"].notna()
    first_place: dict[str, tuple[str, str]] = {}
    for name, place in zip(inventory.loc[endpoints, "endpoint"].astype(str),
                           [p for p, keep in zip(places, endpoints, strict=True) if keep], strict=True):
        seen = first_place.setdefault(name, place)
        a, b = root(seen), root(place)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key in keys:
        groups.setdefault(root(key), []).append(key)
    members: dict[tuple[str, str], list[str]] = {key: [] for key in groups}
    for rid, place in zip(inventory["resource_id"].astype(str), places, strict=True):
        members[root(place)].append(rid)
    shards = [Shard(tuple(groups[key]), tuple(members[key])) for key in groups]
    return sorted(shards, key=lambda shard: (-len(shard.resource_ids), shard.places))
