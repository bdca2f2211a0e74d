"""Small hand-built fleets for tests: every series is explicit, so the right answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.model import normalize_inventory, normalize_metrics

START = pd.Timestamp("2026-11-02", tz="UTC")
STEPS_PER_DAY = 288  # 5-minute samples


class FleetBuilder:
    def __init__(self, days: float = 14, seed: int = 0, per_day: int = STEPS_PER_DAY) -> None:
        """``per_day`` samples a day (5-minute ones unless told): a test whose point is not the sampling can use
        hourly ones (24), twelve times fewer rows to analyse."""
        self.n = int(days * per_day)
        self.timestamps = pd.date_range(START, periods=self.n, freq=pd.Timedelta(days=1) / per_day)
        self.t_days = np.arange(self.n) / per_day
        self.rng = np.random.default_rng(seed)
        self.inventory: list[dict] = []
        self.series: list[pd.DataFrame] = []

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The analysis window: from the first sample to the last (a job's runs are counted in it)."""
        return self.timestamps[0], self.timestamps[-1]

    def noise(self, low: float, high: float) -> np.ndarray:
        return self.rng.uniform(low, high, self.n)

    def ec2(self, resource_id: str, instance_type: str, region: str = "us-east-1", measured_network: bool = True,
            **metrics: np.ndarray) -> None:
        """An EC2 instance. AWS publishes NetworkIn/NetworkOut for every instance, so one without network series
        gets a quiet measured network (0.1 MB/s each way) unless ``measured_network`` is off (a missing metric)."""
        if measured_network and not {"network_in", "network_out"} & set(metrics):
            quiet = np.full(len(next(iter(metrics.values()))) if metrics else self.n, 1e5)
            metrics = {**metrics, "network_in": quiet, "network_out": quiet}
        self.add(resource_id, "ec2_instance", instance_type=instance_type, region=region, metrics=metrics)

    def add(self, resource_id: str, kind: str, metrics: dict[str, np.ndarray], region: str = "us-east-1",
            **fields) -> None:
        self.inventory.append({"resource_id": resource_id, "kind": kind, "region": region, "account": "123456789012",
                               **fields})
        for metric, values in metrics.items():
            values = np.asarray(values, dtype=float)
            self.series.append(pd.DataFrame({"resource_id": resource_id, "metric": metric,
                                             "timestamp": self.timestamps[-len(values):], "value": values}))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        inventory = normalize_inventory(pd.DataFrame(self.inventory))
        columns = ["resource_id", "metric", "timestamp", "value"]
        metrics = pd.concat(self.series, ignore_index=True) if self.series else pd.DataFrame(columns=columns)
        return inventory, normalize_metrics(metrics)


def audit_fleet(fleet: FleetBuilder, catalog, settings=None):
    """Run the audit pipeline on a built fleet (default settings unless given)."""
    from advisor.engine.pipeline import audit
    from advisor.settings import Settings

    inventory, metrics = fleet.frames()
    return audit(inventory, metrics, catalog, settings or Settings(), source_label="test", window=fleet.window)
