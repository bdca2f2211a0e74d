"""Start-up: the quick commands import no heavy module they do not use (timings belong in docs/benchmarks.md, not
here: these assert on ``sys.modules``, never on time)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ["pandas", "numpy", "sklearn", "duckdb", "boto3", "plotly", "pyarrow", "jinja2", "dask", "distributed"]
# catalog show reads the bundled Parquet catalog into pandas: those three are modules it uses
CATALOG = [name for name in HEAVY if name not in ("pandas", "numpy", "pyarrow")]

PROBE = """
import sys
from typer.testing import CliRunner
from advisor.cli.main import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == {exit_code}, result.output
print(result.output, file=sys.stderr)
print(" ".join(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


def probe(args: list[str], heavy: list[str], exit_code: int = 0) -> subprocess.CompletedProcess[str]:
    """Run the command in a fresh interpreter; its stdout is the heavy modules it left loaded, its stderr the
    command's output."""
    return subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=heavy, exit_code=exit_code)],
                          capture_output=True, text=True, timeout=120)


COMMANDS = [(["--help"], HEAVY), (["--version"], HEAVY), (["config", "show"], HEAVY), (["rules", "list"], HEAVY),
            (["rules", "check", "rules"], HEAVY), (["rules", "explain", "ec2-spot-interruptible"], HEAVY),
            (["rules", "schema"], HEAVY), (["rules", "columns"], HEAVY), (["rules", "list", "--format", "json"], HEAVY),
            (["config", "show", "--format", "json"], HEAVY), (["catalog", "show", "m5.xlarge"], CATALOG)]


@pytest.mark.parametrize(("args", "heavy"), [pytest.param(*command, id=" ".join(command[0])) for command in COMMANDS])
def test_quick_commands_leave_heavy_modules_unloaded(args: list[str], heavy: list[str]) -> None:
    result = probe(args, heavy)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_a_misspelt_handler_parameter_fails_the_check_without_pandas(tmp_path: Path) -> None:
    """The check reads the handler's declared parameters (a pydantic model), not the handler: the typo is still an
    error naming file, line, rule and field, and pandas never loads."""
    pack = tmp_path / "spot.yaml"
    pack.write_text(textwrap.dedent("""\
        rules:
          - id: my-spot
            title: Spot
            kind: ec2_instance
            action: use_spot
            thresholds:
              max_bnad: 2
            when: [spot_savings_pct, ">=", 30]
            rationale: spot
        """))
    result = probe(["rules", "check", str(pack)], HEAVY, exit_code=2)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    said = " ".join(result.stderr.split())
    assert "spot.yaml:7: rule 'my-spot', field 'thresholds.max_bnad': unknown threshold" in said
    assert "did you mean max_band?" in said
