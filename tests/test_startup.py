"""Start-up: the quick commands import no heavy module they do not use (timings belong in bench/, not here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from typer.testing import CliRunner
from advisor.cli.main import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
print(" ".join(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


@pytest.mark.parametrize(("args", "heavy"), [
    (["--help"], ["pandas", "numpy", "sklearn", "duckdb", "boto3", "plotly", "pyarrow", "jinja2", "dask",
                   "distributed"]),
    (["--version"], ["pandas", "numpy", "sklearn", "duckdb", "boto3", "plotly", "pyarrow", "jinja2"]),
    (["rules", "list"], ["sklearn", "duckdb", "boto3", "plotly", "jinja2", "dask", "distributed"]),
    (["catalog", "show", "m5.xlarge"], ["sklearn", "duckdb", "boto3", "plotly", "jinja2", "dask", "distributed"]),
])
def test_quick_commands_leave_heavy_modules_unloaded(args: list[str], heavy: list[str]) -> None:
    probe = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=heavy)],
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == ""
