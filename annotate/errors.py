"""Errors raised by the library. Only the CLI turns them into messages and exit codes."""

from __future__ import annotations


class AnnotateError(Exception):
    """Base class: a problem the user can act on. ``str(err)`` is one line."""

    exit_code: int = 1


class InputError(AnnotateError):
    """An article file or table cannot be used as given."""

    exit_code = 2


class ConfigError(AnnotateError):
    """The project config is invalid; the message lists every problem."""

    exit_code = 2


class UsageError(AnnotateError):
    """Options that cannot work together (e.g. several web workers on SQLite)."""

    exit_code = 2


class ServerError(AnnotateError):
    """Label Studio cannot be reached, refused the credentials, or failed."""

    exit_code = 3


class ProjectNotFound(AnnotateError):
    """No Label Studio project carries the config's name."""

    exit_code = 4


class ExportError(AnnotateError):
    """Exported tables are missing or inconsistent (e.g. summarize before pull)."""

    exit_code = 5


class KeyFileError(AnnotateError):
    """A project's keys file (blinding key, annotator pseudonyms) is missing, damaged or different."""

    exit_code = 2
