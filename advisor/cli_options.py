"""Options shared by several command modules (kept apart so each module can import them at the top)."""

from pathlib import Path
from typing import Annotated

import typer

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Settings file [default: ./advisor.toml, "
                                                "then $XDG_CONFIG_HOME/advisor/advisor.toml].")]
