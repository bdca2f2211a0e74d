"""AWS set-up mistakes a new user makes: no credentials at all, and an endpoint that cannot be reached.

No moto here: both fail before any AWS API answers, which is the point.
"""

import socket

import pytest
from typer.testing import CliRunner

from advisor.cli.main import app

runner = CliRunner()


@pytest.fixture
def no_aws_setup(monkeypatch, tmp_path):
    """No credentials anywhere botocore looks (environment, files, container and instance metadata)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.chdir(tmp_path)  # `audit` without --out checks ./advisor-report before it fails: not the checkout's
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("command", [["collect", "-q"], ["audit", "--source", "aws", "-q"]])
def test_missing_credentials_is_a_configuration_error_with_the_fix(no_aws_setup, tmp_path, command):
    result = runner.invoke(app, [*command, "--region", "us-east-1", "--store", str(tmp_path / "cache.duckdb")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "no AWS credentials found" in message and "aws configure" in message and "--profile" in message


def test_an_unreachable_endpoint_says_so(no_aws_setup, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    result = runner.invoke(app, ["collect", "-q", "--region", "us-east-1", "--store", str(tmp_path / "c.duckdb")])
    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())
    assert "AWS endpoint unreachable" in message and "credentials could not be used" not in message
