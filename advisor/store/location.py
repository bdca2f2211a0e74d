"""Where a store lives: a local catalog file with its parts beside it, or parts on S3 with a local catalog.

``--store s3://bucket/prefix`` writes the parts to ``s3://bucket/prefix/points/...`` (readable there by Athena,
Trino, Spark or DuckDB) while the DuckDB catalog stays on this machine, at
``<user data dir>/s3/<bucket>-<first 16 hex digits of sha256(url)>.duckdb``: one catalog per URL.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from advisor.errors import ConfigError
from advisor.store.paths import user_data_dir

if TYPE_CHECKING:
    from advisor.store.cache import Store
    from advisor.store.parts import S3Parts

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix`` (the prefix may be empty), or a ConfigError saying why not."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not _BUCKET.fullmatch(parts.netloc) or parts.query or parts.fragment:
        raise ConfigError(f"store URL {url!r}: expected s3://bucket/prefix (a bucket name of 3 to 63 lower-case "
                          "letters, digits, '.' or '-')")
    prefix = parts.path.strip("/")
    if prefix and any(segment in ("", ".", "..") for segment in prefix.split("/")):
        raise ConfigError(f"store URL {url!r}: the prefix has an empty, '.' or '..' segment")
    return parts.netloc, prefix


def s3_catalog_path(url: str) -> Path:
    """The local catalog of the S3 store ``url`` (see the module docstring)."""
    bucket, prefix = parse_s3_url(url)
    canonical = f"s3://{bucket}/{prefix}".rstrip("/")
    return user_data_dir() / "s3" / f"{bucket}-{hashlib.sha256(canonical.encode()).hexdigest()[:16]}.duckdb"


def s3_filesystem(session: Any) -> Any:
    """pyarrow's S3 filesystem with the credentials and region of a boto3 session; the endpoint of
    ``$AWS_ENDPOINT_URL_S3`` or ``$AWS_ENDPOINT_URL`` when set (as boto3 does)."""
    from pyarrow.fs import S3FileSystem

    credentials = session.get_credentials()
    if credentials is None:
        raise ConfigError("store on S3: no AWS credentials found for the session (profile, environment or role)")
    frozen = credentials.get_frozen_credentials()
    options: dict[str, Any] = {"access_key": frozen.access_key, "secret_key": frozen.secret_key,
                               "session_token": frozen.token, "region": session.region_name or "us-east-1"}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        split = urlsplit(endpoint)
        options |= {"endpoint_override": split.netloc, "scheme": split.scheme or "https"}
    return S3FileSystem(**options)


def s3_parts(url: str, session: Any) -> S3Parts:
    from advisor.store.parts import S3Parts

    bucket, prefix = parse_s3_url(url)
    return S3Parts(f"s3://{bucket}/{prefix}".rstrip("/"), s3_filesystem(session))


def open_store(path: Path, url: str | None, session_of: Any) -> Store:
    """The store at ``path``, or (with ``url``) the S3 store of that URL; ``session_of()`` gives the boto3 session
    whose credentials write to S3."""
    from advisor.store.cache import Store

    if url is None:
        return Store(path)
    return Store(s3_catalog_path(url), s3_parts(url, session_of()))
