"""Where the files that ship beside the code live: rule packs, report templates, bundled data.

In a wheel, ``rules/`` and ``reports/`` are copied into the package (see pyproject's force-include); in a
source checkout or an editable install they sit at the repository's top level.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory of a top-level resource folder (``rules`` or ``reports``)."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"advisor is missing its {name}/ folder (looked in {_PACKAGE} and {_PACKAGE.parent})")


def data_path(*parts: str) -> Path:
    """Path of a file bundled inside the package's ``data/`` folder."""
    return _PACKAGE.joinpath("data", *parts)
