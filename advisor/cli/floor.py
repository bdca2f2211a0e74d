"""What every command stands on: the app, the console, config loading and the one error boundary.

Exit codes: 0 success; 1 runtime failure; 2 usage or configuration error (bad flag, bad rule file, bad input
data); 3 savings found above ``--fail-on-savings``; 4 another run holds the lock; 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from advisor.cli.options import SETTING_FLAGS
from advisor.config import EffectiveConfig, load_config
from advisor.errors import AdvisorError, ConfigError
from advisor.jsonsafe import plain
from advisor.safetext import markup
from advisor.store.paths import default_store_path
from advisor.version import __version__

EXIT_SAVINGS_FOUND = 3
EXIT_INTERRUPTED = 130

# When output goes to a file or pipe (cron, CI), rich would wrap tables at 80 columns; use a wide line instead,
# unless COLUMNS says how wide (rich reads it).
PIPE_WIDTH = 200


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    wide = not stream.isatty() and not os.environ.get("COLUMNS", "").isdigit()
    return Console(stderr=stderr, width=PIPE_WIDTH if wide else None)


class ErrorBoundary(TyperGroup):
    """The root command: every command runs inside :meth:`invoke`, the one place errors become exit codes.

    An AdvisorError is one clear line on stderr and its own exit code; Ctrl-C is 130; anything else is exit 1
    with its type and message (``ADVISOR_DEBUG=1`` lets the traceback through).
    """

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context, which typer does not export
        try:
            return super().invoke(ctx)
        except AdvisorError as exc:
            console(stderr=True).print(f"[bold red]error:[/] {markup(str(exc))}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from exc
        except KeyboardInterrupt:
            console(stderr=True).print("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors and exits: typer reports them
            raise
        except Exception as exc:
            if os.environ.get("ADVISOR_DEBUG"):
                raise
            reason = f"{type(exc).__name__}: {exc}"
            console(stderr=True).print(f"[bold red]error:[/] unexpected failure: {markup(reason)} "
                                       "(set ADVISOR_DEBUG=1 for a traceback)", soft_wrap=True)
            raise typer.Exit(1) from exc


app = typer.Typer(
    cls=ErrorBoundary,
    help="Rightsizing and cost advisor for machine-learning workloads on AWS.\n\n"
    "Example: advisor audit --demo --out ./advisor-report",
    pretty_exceptions_enable=False,
    # markdown, not rich: rich markup would swallow "[default: 20; advisor.toml: ...]" and "[output]" in the help texts
    rich_markup_mode="markdown",
)


@app.callback(invoke_without_command=True)
def root(ctx: typer.Context, version: Annotated[bool, typer.Option(
        "--version", is_eager=True, help="Print the version and exit.")] = False) -> None:
    """A bare ``advisor`` prints the help and exits 0; ``--version`` prints the version."""
    if version:
        typer.echo(f"advisor {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def print_json(data: Any) -> None:
    """``--format json``: indented JSON on stdout; NaN is null, numpy and pandas values are plain."""
    sys.stdout.write(json.dumps(plain(data), indent=2, default=str) + "\n")


def load_effective_config(config: Path | None, demo: bool = False, **values: Any) -> EffectiveConfig:
    """advisor.toml merged with the setting flags that were given, by parameter name (``cpu_headroom`` is
    ``--cpu-headroom``); a flag left at None keeps the file's value."""
    store = values.pop("store", None)
    given = {f"--{name.replace('_', '-')}": value for name, value in values.items()}
    keys = dict(SETTING_FLAGS)
    if isinstance(store, str) and store.startswith("s3:"):
        from advisor.store.location import parse_s3_url

        parse_s3_url(store)  # a clear error before anything is read
        given["--store"], keys["--store"] = store, "store.url"
    elif store is not None:
        given["--store"] = Path(store)
    if demo:
        if given.get("--source") not in (None, "demo"):
            raise ConfigError("use either --demo or --source, not both")
        given["--source"] = "demo"
    return load_config(config, {keys[flag]: value for flag, value in given.items()},
                       {key: flag for flag, key in keys.items()})


def store_path(config: EffectiveConfig) -> Path:
    return config.config.store.path or default_store_path()


def writable_dir(path: Path) -> Path:
    """The output directory, created and proven writable (with an anonymous file: no fixed name to plant a link at)."""
    from advisor.fsutil import ensure_writable_dir

    return ensure_writable_dir(path)


def command_group(help_text: str) -> typer.Typer:
    """A command group that, run bare (``advisor rules``), prints its help and exits 0 like ``advisor`` does.

    Click's ``no_args_is_help`` exits 2, which scripts read as a usage error.
    """
    group = typer.Typer(help=help_text, rich_markup_mode="markdown")

    @group.callback(invoke_without_command=True)
    def _bare(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            typer.echo(ctx.get_help())
            raise typer.Exit()

    return group
