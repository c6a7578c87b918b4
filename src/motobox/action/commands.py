"""Workflow commands in a step's output (``::error file=a,line=1::text``), read as the runner
reads them (``actions/runner`` ``ActionCommand.TryParseV2``), and the log with masks applied.

A line is a command when, stripped, it starts with ``::``, the text up to the next ``::`` is a
known command name and optional ``key=value`` properties separated by ``,``, and the rest is
the data. Data unescapes ``%25 %0D %0A``; property values also ``%3A %2C``. After
``::stop-commands::TOKEN`` nothing is a command until a line ``::TOKEN::``. Values given to
``::add-mask::`` are replaced by ``***`` in everything printed afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

KNOWN = {
    "error",
    "warning",
    "notice",
    "debug",
    "add-mask",
    "group",
    "endgroup",
    "stop-commands",
    "echo",
    "set-output",
    "save-state",
    "set-env",
    "add-path",
    "add-matcher",
    "remove-matcher",
}
ANNOTATIONS = ("error", "warning", "notice")


def unescape_data(value: str) -> str:
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(value: str) -> str:
    return (
        value.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str


def parse_command(line: str) -> Command | None:
    text = line.strip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    info, data = text[2:end], text[end + 2 :]
    name, _, props_text = info.partition(" ")
    if name not in KNOWN:
        return None
    properties = {}
    for pair in props_text.split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            properties[key.strip()] = unescape_property(value)
    return Command(name, properties, unescape_data(data))


@dataclass(frozen=True)
class Annotation:
    level: str  # error warning notice
    message: str
    title: str | None = None
    file: str | None = None
    line: str | None = None
    step: str | None = None

    def render(self) -> str:
        where = ""
        if self.file:
            where = f" ({self.file}{':' + self.line if self.line else ''})"
        title = f"{self.title}: " if self.title else ""
        return f"{self.level.capitalize()}{where}: {title}{self.message}"


class Masker:
    """The values registered with ``::add-mask::``; ``hide`` replaces each with ``***``."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def add(self, value: str) -> None:
        for v in (value, *value.splitlines()):
            v = v.strip()
            if v and v not in self.values:
                self.values.append(v)
        self.values.sort(key=len, reverse=True)  # longest first: a mask inside another

    def hide(self, text: str) -> str:
        for v in self.values:
            text = text.replace(v, "***")
        return text

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class CommandLog:
    """What one action run printed, commands carried out as they arrive."""

    masker: Masker = field(default_factory=Masker)
    annotations: list[Annotation] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # masked, as printed
    debug: bool = False
    echo: Callable[[str], None] | None = None
    on_legacy: Callable[[Command], None] | None = None
    step: str | None = None
    _stop_token: str | None = None
    _depth: int = 0

    def emit(self, text: str) -> None:
        shown = self.masker.hide(text)
        self.lines.append(shown)
        if self.echo:
            self.echo(shown)

    def feed(self, line: str) -> None:
        """One line of a step's output."""
        if self._stop_token is not None:
            if line.strip() == f"::{self._stop_token}::":
                self._stop_token = None
            else:
                self.emit(line)
            return
        cmd = parse_command(line)
        if cmd is None:
            self.emit(line)
            return
        self.run(cmd)

    def run(self, cmd: Command) -> None:
        if cmd.name == "add-mask":
            self.masker.add(cmd.data)
        elif cmd.name == "stop-commands":
            if cmd.data:
                self._stop_token = cmd.data
        elif cmd.name in ANNOTATIONS:
            title = cmd.properties.get("title")
            note = Annotation(  # stored masked: no report or annotation shows a masked value
                cmd.name,
                self.masker.hide(cmd.data),
                title=self.masker.hide(title) if title else None,
                file=cmd.properties.get("file"),
                line=cmd.properties.get("line"),
                step=self.step,
            )
            self.annotations.append(note)
            self.emit(note.render())
        elif cmd.name == "group":
            self._depth += 1
            self.emit(f"▸ {cmd.data}")
        elif cmd.name == "endgroup":
            self._depth = max(0, self._depth - 1)
        elif cmd.name == "debug":
            if self.debug:
                self.emit(f"##[debug]{cmd.data}")
        elif self.on_legacy:
            self.on_legacy(cmd)
