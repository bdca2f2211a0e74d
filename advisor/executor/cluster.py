"""Where the shards' tasks run: a pool of local processes, or a Dask cluster (imported only when asked for)."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from advisor.errors import ConfigError
from advisor.executor.merge import ShardFailure
from advisor.executor.tasks import ShardJob, ShardResult, run_shard
from advisor.sources.batches import first_line

DISTRIBUTION = "ml-cost-advisor"


class Runner(Protocol):
    def run(self, jobs: Sequence[ShardJob]) -> list[ShardResult | ShardFailure]: ...


class ProcessRunner:
    """``--executor local --workers N``: N processes on this machine (spawned: no state inherited)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(self, jobs: Sequence[ShardJob]) -> list[ShardResult | ShardFailure]:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=context) as pool:
            futures = [pool.submit(run_shard, job) for job in jobs]
            return [_outcome(job, future.result) for job, future in zip(jobs, futures, strict=True)]


class DaskRunner:
    """``--executor dask``: one task per shard on the cluster at ``scheduler``, else on a LocalCluster of
    ``workers`` processes (one thread each: the analysis is numpy-bound and holds the GIL between calls)."""

    def __init__(self, scheduler: str | None, workers: int | None) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise ConfigError(f"--executor dask needs Dask: pip install '{DISTRIBUTION}[cluster]'") from exc
        self.distributed = distributed
        self.scheduler, self.workers = scheduler, workers

    def run(self, jobs: Sequence[ShardJob]) -> list[ShardResult | ShardFailure]:
        distributed = self.distributed
        if self.scheduler:
            try:
                client = distributed.Client(self.scheduler, timeout="30s")
            except OSError as exc:
                raise ConfigError(f"--scheduler {self.scheduler}: no Dask scheduler answered ({first_line(exc)})") \
                    from exc
            with client:
                return self._submit(client, jobs)
        with distributed.LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                distributed.Client(cluster) as client:
            return self._submit(client, jobs)

    @staticmethod
    def _submit(client: Any, jobs: Sequence[ShardJob]) -> list[ShardResult | ShardFailure]:
        futures = [client.submit(run_shard, job, pure=False, key=f"advisor-shard-{index}-{job.shard.label}")
                   for index, job in enumerate(jobs)]
        return [_outcome(job, future.result) for job, future in zip(jobs, futures, strict=True)]


def _outcome(job: ShardJob, result: Any) -> ShardResult | ShardFailure:
    """The shard's result, or what it raised (a shard's failure leaves the others running)."""
    try:
        outcome: ShardResult = result()
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        return ShardFailure(job.shard, f"{type(exc).__name__}: {first_line(exc)}")
    return outcome
