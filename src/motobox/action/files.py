"""File commands: what a step writes to ``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH``,
``GITHUB_STEP_SUMMARY`` and ``GITHUB_STATE``.

Each step gets fresh, empty files (``StepFiles.make``); after it ends they are read
(``StepFiles.read``): ``NAME=value`` lines and ``NAME<<DELIMITER`` ... ``DELIMITER`` blocks,
with the runner's error words for a broken one, and the summary capped at 1 MiB.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

NAMES = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")
SUMMARY_LIMIT = 1024 * 1024


class FileCommandError(Exception):
    pass


def parse_file_command(text: str, variable: str) -> dict[str, str]:
    """``NAME=value`` lines and ``NAME<<DELIMITER`` ... ``DELIMITER`` blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        if not line:
            continue
        heredoc = line.find("<<")
        equals = line.find("=")
        if heredoc > 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            body: list[str] = []
            while i < len(lines) and lines[i].rstrip("\r") != delimiter:
                body.append(lines[i].rstrip("\r"))
                i += 1
            if i >= len(lines):
                raise FileCommandError(
                    f"Invalid value in {variable}. Matching delimiter not found '{delimiter}'"
                )
            i += 1
            values[name] = "\n".join(body)
        elif equals > 0:
            values[line[:equals]] = line[equals + 1 :]
        else:
            raise FileCommandError(f"Invalid format '{line}' in {variable}")
    return values


@dataclass
class Written:
    """What one step wrote."""

    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    summary: bytes = b""

    @property
    def summary_too_large(self) -> bool:
        return len(self.summary) > SUMMARY_LIMIT


@dataclass
class StepFiles:
    paths: dict[str, Path]

    @classmethod
    def make(cls, folder: Path) -> StepFiles:
        paths = {name: folder / f"{name.lower()}_{uuid.uuid4()}" for name in NAMES}
        for path in paths.values():
            path.touch()
        return cls(paths)

    def env(self) -> dict[str, str]:
        return {name: str(path) for name, path in self.paths.items()}

    def _text(self, name: str) -> str:
        return self.paths[name].read_text("utf-8")

    def read(self) -> Written:
        return Written(
            outputs=parse_file_command(self._text("GITHUB_OUTPUT"), "GITHUB_OUTPUT"),
            env=parse_file_command(self._text("GITHUB_ENV"), "GITHUB_ENV"),
            state=parse_file_command(self._text("GITHUB_STATE"), "GITHUB_STATE"),
            path=[line for line in self._text("GITHUB_PATH").splitlines() if line.strip()],
            summary=self.paths["GITHUB_STEP_SUMMARY"].read_bytes(),
        )
