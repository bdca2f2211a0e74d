"""Helpers of the hostile-input suite. A small fleet (one or two resources of every kind, taken from the demo
and thinned to hourly samples) written as a file-source export by each test, and the checks every hostile case
makes: the exit code, a one-line message naming the file and the problem, no traceback, and every other
resource's recommendation unchanged from the clean run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from advisor.cli.main import app

# (resource id, why it is in the fleet): every kind, and each main action of the EC2 rules.
FLEET_IDS = (
    "i-0f72591bbaf53e935",  # ec2 GPU underused
    "i-0effd3819a983fb68",  # ec2 GPU idle: stop
    "vol-0d40840b568b0da13",  # ebs io over-provisioned
    "embedding-service/AllTraffic",  # sagemaker endpoint
    "bert-pretrain-2026-11-10-10-10-00",  # training job
    "nb-alice-research",  # notebook
    "hpo-bert-classifier",  # tuning job
    "arn:aws:batch:us-east-1:111111111111:compute-environment/batch-training-ondemand",  # batch
)
THIN = 12  # keep every 12th 5-minute sample: hourly series, small files


@dataclass
class Fleet:
    inventory: pd.DataFrame  # as written to inventory.csv (tags as JSON text)
    metrics: pd.DataFrame

    def copy(self) -> Fleet:
        return Fleet(self.inventory.copy(), self.metrics.copy())

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.inventory.to_csv(directory / "inventory.csv", index=False, lineterminator="\r\n")  # quotes a CR
        self.metrics.to_csv(directory / "metrics.csv", index=False)
        return directory

    def only(self, *resource_ids: str) -> Fleet:
        """These resources alone, in the fleet's order: a test about one victim audits it beside one neighbour
        (the neighbour's clean recommendations are the same in any fleet: no resource changes another's)."""
        inventory = self.inventory[self.inventory["resource_id"].isin(resource_ids)].reset_index(drop=True)
        assert len(inventory) == len(resource_ids), resource_ids
        metrics = self.metrics[self.metrics["resource_id"].isin(resource_ids)].reset_index(drop=True)
        return Fleet(inventory, metrics)

    def clean_of(self, clean: dict[str, list[dict]]) -> dict[str, list[dict]]:
        """The clean run's recommendations of this fleet's resources (each has some: no comparison is empty)."""
        ids = set(self.inventory["resource_id"])
        assert ids <= set(clean), ids - set(clean)
        return {resource_id: records for resource_id, records in clean.items() if resource_id in ids}

    def row(self, resource_id: str) -> int:
        return int(self.inventory.index[self.inventory["resource_id"] == resource_id][0])


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def records(self) -> dict[str, list[dict]]:
        by_id: dict[str, list[dict]] = {}
        for record in json.loads(self.stdout):
            by_id.setdefault(record["resource_id"], []).append(record)
        return by_id


runner = CliRunner()


def run_cli(*args: str) -> Run:
    result = runner.invoke(app, list(args))
    return Run(result.exit_code, result.stdout, result.stderr)


def recommend(directory: Path, *extra: str) -> Run:
    return run_cli("recommend", "--source", f"files:{directory}", "--format", "json", *extra)


def assert_clean_error(run: Run, code: int, *needles: str) -> str:
    """Exit ``code``, one line on stderr holding every needle, no traceback, no 'unexpected failure'."""
    assert run.exit_code == code, (run.exit_code, run.stderr, run.stdout[-500:])
    message = run.stderr.strip()
    assert "Traceback" not in run.stderr + run.stdout
    assert "unexpected failure" not in message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def assert_others_unchanged(run: Run, clean: dict[str, list[dict]], *victims: str) -> None:
    """Exit 0, and every resource but the victims has exactly its clean recommendations."""
    assert run.exit_code == 0, run.stderr
    assert "Traceback" not in run.stderr
    got = run.records
    for resource_id, records in clean.items():
        if resource_id not in victims:
            assert got.get(resource_id) == records, resource_id
    assert set(got) - set(clean) <= set(victims)
