"""Errors that reach the user as one line.

A ``UsageError`` is motobox's own usage or configuration mistake (bad scenario, unknown
operation, port in use...). The command line prints ``motobox: <message>`` and exits 2;
nothing else is printed, never a traceback. ``where`` names the place (``file:line:col``).
"""

from __future__ import annotations


class UsageError(Exception):
    """A mistake the user can fix; printed as one line, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(self.line())

    def line(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ProgramNotFound(UsageError):
    """The command to run does not exist; the shell's convention is exit 127."""

    exit_code = 127
