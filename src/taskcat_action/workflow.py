"""Writing to the GitHub runner: workflow commands, output and summary files.

Escaping follows the runner (``actions/toolkit`` ``command.ts``): data escapes ``%``, ``\\r``,
``\\n``; property values also escape ``:`` and ``,``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Mapping


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: str | int | None) -> None:
    props = ",".join(
        f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None
    )
    print(f"::{name}{' ' + props if props else ''}::{escape_data(message)}", flush=True)


def add_mask(value: str) -> None:
    if value:
        command("add-mask", value)


def error(message: str, *, title: str | None = None) -> None:
    command("error", message, title=title)


def group(title: str) -> None:
    print(f"::group::{title}", flush=True)


def endgroup() -> None:
    print("::endgroup::", flush=True)


def _append(variable: str, text: str) -> None:
    path = os.environ.get(variable)
    if not path:
        sys.stdout.write(text)
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def set_outputs(values: Mapping[str, str]) -> None:
    """Writes ``NAME<<DELIMITER`` blocks to ``$GITHUB_OUTPUT`` (safe for any value)."""
    text = ""
    for name, value in values.items():
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        text += f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
    _append("GITHUB_OUTPUT", text)


def add_summary(markdown: str) -> None:
    _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n")
