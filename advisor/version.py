"""The version, in one place: pyproject.toml reads it from here (hatch), and so do the report and ``--version``."""

__version__ = "0.1.0"
