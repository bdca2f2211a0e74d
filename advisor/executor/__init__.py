"""Shard-parallel audits: an estate split into (account, region) shards, each analysed as its own task (in local
processes or on a Dask cluster) and merged into the result a single process would give (see docs/scale.md)."""
