"""Where the browser tests find Chromium, and what they do when it is missing: skip and say how to install it."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "sudo apt-get install -y chromium"


def require_chromium(path: Path = CHROMIUM) -> None:
    """Skip (never install from a test) when Debian's chromium is missing; `.ci/run` installs it as root."""
    if not path.exists():
        pytest.skip(f"{path} is missing: install it with `{INSTALL}` to run the report browser tests")
