"""``patch`` paths: ``Stacks[*].Outputs[0].OutputValue`` through an answer's fields.

``path_tokens`` reads a path into member names, indexes and ``None`` (for ``[*]``); the
scenario loader walks the tokens through botocore's output shape to check them, and
``apply_patch`` walks them through the backend's parsed answer to set the value.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"([A-Za-z0-9_]+)|\[(\*|-?\d+)\]|\.")

Token = str | int | None


def path_tokens(path: str) -> list[Token]:
    """``"A[*].B[0]"`` -> ``["A", None, "B", 0]``; ``ValueError`` for anything else."""
    tokens: list[Token] = []
    pos = 0
    expect_name = True
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match:
            raise ValueError(path)
        name, index = match.group(1), match.group(2)
        if name is not None:
            if not expect_name:
                raise ValueError(path)
            tokens.append(name)
            expect_name = False
        elif index is not None:
            if expect_name:
                raise ValueError(path)
            tokens.append(None if index == "*" else int(index))
        else:  # "."
            if expect_name:
                raise ValueError(path)
            expect_name = True
        pos = match.end()
    if not tokens or expect_name:
        raise ValueError(path)
    return tokens


def apply_patch(document: Any, path: str, value: Any) -> int:
    """Set every place ``path`` names in ``document`` to ``value``; returns how many were
    set. Missing structure members on the way are created; ``[*]`` over nothing sets nothing."""
    tokens = path_tokens(path)

    def walk(node: Any, i: int) -> int:
        token, last = tokens[i], i == len(tokens) - 1
        if token is None or isinstance(token, int):
            if not isinstance(node, list):
                return 0
            indexes = range(len(node)) if token is None else [token]
            count = 0
            for j in indexes:
                if not -len(node) <= j < len(node):
                    continue
                if last:
                    node[j] = value
                    count += 1
                else:
                    count += walk(node[j], i + 1)
            return count
        if not isinstance(node, dict):
            return 0
        if last:
            node[token] = value
            return 1
        if token not in node:
            node[token] = {} if isinstance(tokens[i + 1], str) else []
        return walk(node[token], i + 1)

    return walk(document, 0)
