"""A real moto server (``python -m moto.server``) on 127.0.0.1 for the whole session, reset before each test.

boto3 talks to it over HTTP through ``AWS_ENDPOINT_URL``, exactly as it would to AWS, so serialization,
paging and error parsing are real. Differences of moto 5.2 from AWS that these tests work around:

* GetMetricData has no percentile statistics, none of the 500-query / 100,800-datapoint limits and no
  NextToken paging, so ``test_planner`` checks the planner's calls against the limits itself.
* Every CloudWatch read scans every stored datum (and stock ListMetrics lists multi-dimension metrics once
  per datum), so fleets stay small: a few resources, hours to a couple of days of 5-minute data.
* SageMaker ListTrainingJobsForHyperParameterTuningJob and the Price List API are not implemented: those
  paths are covered with botocore's Stubber and real response shapes.
* moto accepts any AssumeRole and every request in a region: failures (throttling, a disabled region, a role
  that cannot be assumed) are injected with botocore ``before-send`` hooks that return AWS's own error bodies.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers module beside this file

from awsfakes import REGION, Calls, Seeder  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"moto server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    yield url
    process.kill()  # a throwaway server: no state worth a graceful stop
    process.wait(10)


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point every boto3 client at the moto server, with dummy credentials and an empty state."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "ADVISOR_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).close()
    return moto_url


@pytest.fixture
def seed(aws: str) -> Seeder:
    return Seeder()


@pytest.fixture
def calls() -> Calls:
    return Calls()
