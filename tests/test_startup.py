"""Start-up: the quick commands import no heavy module they do not use (timings belong in docs/benchmarks.md, not
here: these assert on ``sys.modules``, never on time)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ["pandas", "numpy", "sklearn", "duckdb", "boto3", "plotly", "pyarrow", "jinja2", "dask", "distributed"]
# catalog show reads the bundled Parquet catalog into pandas: those three are modules it uses
CATALOG = [name for name in HEAVY if name not in ("pandas", "numpy", "pyarrow")]

# One fresh interpreter imports what a command needs before it runs (the CLI app), then forks a child per command:
# each child starts from exactly that state, as a fresh interpreter per command would, for one start-up in all.
PROBE = """
import os
import sys
from typer.testing import CliRunner
from advisor.cli.main import app
for args, heavy, out in {jobs!r}:
    pid = os.fork()
    if pid == 0:
        result = CliRunner().invoke(app, args)
        loaded = " ".join(sorted(name for name in heavy if name in sys.modules))
        with open(out, "w") as file:
            file.write(repr((result.exit_code, result.output, loaded)))
        os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0, args
"""

COMMANDS = [(["--help"], HEAVY), (["--version"], HEAVY), (["config", "show"], HEAVY), (["rules", "list"], HEAVY),
            (["rules", "check", "rules"], HEAVY), (["rules", "explain", "ec2-spot-interruptible"], HEAVY),
            (["rules", "schema"], HEAVY), (["rules", "columns"], HEAVY), (["rules", "list", "--format", "json"], HEAVY),
            (["config", "show", "--format", "json"], HEAVY), (["catalog", "show", "m5.xlarge"], CATALOG)]

MISSPELT = textwrap.dedent("""\
    rules:
      - id: my-spot
        title: Spot
        kind: ec2_instance
        action: use_spot
        thresholds:
          max_bnad: 2
        when: [spot_savings_pct, ">=", 30]
        rationale: spot
    """)


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str]]:
    """Each command run as above, by its arguments joined: its exit code, its output and the heavy modules it left
    loaded. The misspelt rule pack (below) is one of them."""
    directory = tmp_path_factory.mktemp("probe")
    pack = directory / "spot.yaml"
    pack.write_text(MISSPELT)
    commands = [*COMMANDS, (["rules", "check", str(pack)], HEAVY)]
    jobs = [(args, heavy, str(directory / f"{number}.out")) for number, (args, heavy) in enumerate(commands)]
    started = subprocess.run([sys.executable, "-c", PROBE.format(jobs=jobs)], capture_output=True, text=True,
                             timeout=120)
    assert started.returncode == 0, started.stderr
    return {" ".join(args): ast.literal_eval(Path(out).read_text()) for args, _, out in jobs}


@pytest.mark.parametrize(("args", "heavy"), [pytest.param(*command, id=" ".join(command[0])) for command in COMMANDS])
def test_quick_commands_leave_heavy_modules_unloaded(probed, args: list[str], heavy: list[str]) -> None:
    exit_code, output, loaded = probed[" ".join(args)]
    assert exit_code == 0, output
    assert loaded == ""


def test_a_misspelt_handler_parameter_fails_the_check_without_pandas(probed) -> None:
    """The check reads the handler's declared parameters (a pydantic model), not the handler: the typo is still an
    error naming file, line, rule and field, and pandas never loads."""
    (exit_code, output, loaded), = [run for args, run in probed.items() if args.endswith("spot.yaml")]
    assert exit_code == 2, output
    assert loaded == ""
    said = " ".join(output.split())
    assert "spot.yaml:7: rule 'my-spot', field 'thresholds.max_bnad': unknown threshold" in said
    assert "did you mean max_band?" in said
