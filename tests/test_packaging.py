"""What the package index and pip see: our own distribution name, the `advisor` command, the declared licence."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_distribution_name_command_and_licence():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "ml-cost-advisor"  # "advisor" on the index is somebody else's project
    assert project["scripts"] == {"advisor": "advisor.cli.main:main"}
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
