"""Sessions, roles, regions and client configuration for collecting from many accounts and regions.

The standard credential chain (environment, profiles, SSO, instance roles) and ``AWS_ENDPOINT_URL`` work
unchanged: nothing here names an endpoint. Assumed-role credentials refresh themselves before they expire.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.parsers import ResponseParserError

from advisor.errors import ConfigError

SESSION_NAME = "advisor-collect"
FALLBACK_STS_REGION = "us-east-1"


NO_CREDENTIALS = ("no AWS credentials found: run `aws configure` (or `aws sso login`), pass --profile NAME, or set "
                  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError)

# What a failed AWS call can raise: service errors, local/transport errors, and unparseable responses (an
# HTML error page from a proxy or an unknown endpoint).
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{name}={value!r}: expected a positive whole number")
    return int(value)


@dataclass(frozen=True)
class AgentOptions:
    """Where the CloudWatch agent publishes: its namespace (the agent config's ``namespace``, default CWAgent) and
    the dimensions naming the instance in its metrics: ``InstanceId`` (the agent's ``append_dimensions``
    ``{"InstanceId": "${aws:InstanceId}"}``) and/or ``host`` (its default: the hostname, matched to the instance's
    private DNS name)."""

    namespace: str = "CWAgent"
    memory_dimensions: tuple[str, ...] = ("InstanceId",)


@dataclass(frozen=True)
class AwsOptions:
    """What to collect from: regions (``all`` = every enabled one), a profile, roles to assume."""

    regions: tuple[str, ...] = ()
    profile: str | None = None
    role_arns: tuple[str, ...] = ()
    external_id: str | None = None
    workers: int = 8
    # botocore's own AWS_MAX_ATTEMPTS setting is honoured; our default is higher than botocore's 3 because
    # adaptive mode spaces the retries out instead of hammering a throttled API
    max_attempts: int = field(default_factory=lambda: _env_int("AWS_MAX_ATTEMPTS", 10))
    agent: AgentOptions = field(default_factory=AgentOptions)
    # Called with every boto3 session created (the base one and each assumed role), e.g. to register
    # botocore event hooks that count or inspect calls.
    configure_session: Callable[[boto3.Session], None] | None = field(default=None, compare=False)


def client_config(options: AwsOptions) -> Config:
    """Adaptive retries: throttled calls are retried with client-side rate limiting."""
    return Config(retries={"mode": "adaptive", "max_attempts": options.max_attempts},
                  max_pool_connections=max(10, options.workers * 2), user_agent_extra="advisor")


def describe_error(exc: BaseException) -> str:
    """One line naming the AWS error code and message (or the local failure)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "Error"
        message = " ".join(str(error.get("Message") or "").split())
        return f"{code}: {message}" if message else code
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class Account:
    """One AWS account to read: its id, how it was reached, and a session whose clients are thread-safe."""

    account_id: str
    label: str
    session: boto3.Session
    config: Config
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def client(self, service: str, region: str) -> Any:
        # boto3 sessions are not thread-safe while creating clients; the clients themselves are.
        with self._lock:
            return self.session.client(service, region_name=region, config=self.config)


def _configured(session: boto3.Session, options: AwsOptions) -> boto3.Session:
    if options.configure_session is not None:
        options.configure_session(session)
    return session


def base_session(options: AwsOptions) -> boto3.Session:
    try:
        session = boto3.Session(profile_name=options.profile)
    except BotoCoreError as exc:
        raise ConfigError(f"--profile {options.profile}: {describe_error(exc)}") from exc
    return _configured(session, options)


def _assumed_session(base: boto3.Session, role_arn: str, options: AwsOptions, config: Config) -> boto3.Session:
    sts = base.client("sts", region_name=base.region_name or FALLBACK_STS_REGION, config=config)
    arguments = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME}
    if options.external_id:
        arguments["ExternalId"] = options.external_id

    def fetch() -> dict[str, str]:
        credentials = sts.assume_role(**arguments)["Credentials"]
        return {"access_key": credentials["AccessKeyId"], "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"], "expiry_time": credentials["Expiration"].isoformat()}

    credentials = RefreshableCredentials.create_from_metadata(fetch(), fetch, "assume-role")
    core = botocore.session.Session()
    # botocore has no public setter for ready-made credentials; this is the documented-by-use way to give a
    # session refreshing assume-role credentials without writing a profile.
    core._credentials = credentials
    return _configured(boto3.Session(botocore_session=core, region_name=base.region_name), options)


def _account_id(session: boto3.Session, config: Config) -> str:
    sts = session.client("sts", region_name=session.region_name or FALLBACK_STS_REGION, config=config)
    return str(sts.get_caller_identity()["Account"])


def open_accounts(options: AwsOptions) -> tuple[list[Account], list[str]]:
    """The accounts that could be reached, and one problem line per account that could not."""
    config = client_config(options)
    base = base_session(options)
    accounts: list[Account] = []
    problems: list[str] = []
    if not options.role_arns:
        label = f"profile {options.profile}" if options.profile else "default credentials"
        try:
            accounts.append(Account(_account_id(base, config), label, base, config))
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise ConfigError(f"{NO_CREDENTIALS} ({describe_error(exc)})") from exc
        except UNREACHABLE as exc:
            problems.append(f"{label}: AWS endpoint unreachable, check the network, proxy or AWS_ENDPOINT_URL "
                            f"({describe_error(exc)})")
        except AWS_ERRORS as exc:
            problems.append(f"{label}: credentials could not be used ({describe_error(exc)})")
        return accounts, problems
    for role_arn in options.role_arns:
        try:
            session = _assumed_session(base, role_arn, options, config)
            accounts.append(Account(_account_id(session, config), role_arn, session, config))
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise ConfigError(f"{NO_CREDENTIALS}, to assume {role_arn} ({describe_error(exc)})") from exc
        except UNREACHABLE as exc:
            problems.append(f"{role_arn}: AWS endpoint unreachable, account skipped ({describe_error(exc)})")
        except AWS_ERRORS as exc:
            problems.append(f"{role_arn}: could not assume the role, account skipped ({describe_error(exc)})")
    return accounts, problems


def account_regions(account: Account, requested: tuple[str, ...]) -> list[str]:
    """The requested regions; ``all`` means every region enabled for the account (DescribeRegions)."""
    if "all" in requested:
        ec2 = account.client("ec2", account.session.region_name or FALLBACK_STS_REGION)
        enabled = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
        return sorted(set(enabled) | {r for r in requested if r != "all"})
    if requested:
        return list(dict.fromkeys(requested))
    if account.session.region_name:
        return [account.session.region_name]
    raise ConfigError("no AWS region: pass --region (repeatable, or 'all') or set AWS_REGION")
