"""Errors the CLI turns into clear one-line messages and exit codes."""


class AdvisorError(Exception):
    """Base class: a problem the user can act on."""

    exit_code = 1


class ConfigError(AdvisorError):
    """Bad settings, flags or rule files (exit code 2)."""

    exit_code = 2


class RuleError(ConfigError):
    """A rule pack failed validation; the message names the file, line, rule and field."""


class SourceError(AdvisorError):
    """Input data that cannot be read as the documented frames (exit code 2)."""

    exit_code = 2


class CatalogError(AdvisorError):
    """The catalog does not know a type the user named, or cannot be read (exit code 2)."""

    exit_code = 2
