"""GitHub Actions expressions (``${{ ... }}``), evaluated as the runner does.

Written here because no maintained Python library evaluates them: the grammar is small (literals,
contexts with ``.name`` and ``['name']``, ``! == != < <= > >= && ||``, parentheses, function
calls) and the semantics are the runner's (``actions/runner`` ``src/Sdk/Expressions``):

- ``&&`` and ``||`` return one of their operands, not a boolean;
- ``==`` and friends compare strings case-insensitively and coerce mismatched types to numbers
  (``null`` -> 0, ``true`` -> 1, ``''`` -> 0, a non-numeric string -> NaN);
- truthiness: ``false``, ``0``, ``''``, ``null`` and NaN are false;
- a value put into a string: ``null`` -> ``''``, booleans ``true``/``false``, objects as JSON.

Functions: ``contains startsWith endsWith format join toJSON fromJSON`` and the status functions
``success() failure() always() cancelled()`` whose answers the caller provides.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated; the message says where."""


_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<number>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
    | (?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # string number op name end
    text: str
    pos: int


def _tokenize(source: str) -> list[_Token]:
    tokens, pos = [], 0
    while True:
        while pos < len(source) and source[pos].isspace():
            pos += 1
        if pos >= len(source):
            tokens.append(_Token("end", "", pos))
            return tokens
        m = _TOKEN.match(source, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"unexpected character {source[pos]!r} at position {pos + 1}")
        kind = m.lastgroup
        assert kind
        tokens.append(_Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()


Functions = Mapping[str, Callable[..., Any]]


class _Parser:
    """Recursive descent; evaluation happens while parsing, with ``&&``/``||`` short-circuit
    done by evaluating the right side in a mode that only checks syntax."""

    def __init__(self, source: str, contexts: Mapping[str, Any], functions: Functions) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.i = 0
        self.contexts = contexts
        self.functions = functions

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self, text: str | None = None) -> _Token:
        tok = self.tokens[self.i]
        if text is not None and tok.text != text:
            found = tok.text or "the end"
            raise ExpressionError(f"expected {text!r} at position {tok.pos + 1}, found {found!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self.or_()
        if self.peek().kind != "end":
            tok = self.peek()
            raise ExpressionError(f"unexpected {tok.text!r} at position {tok.pos + 1}")
        return value

    def or_(self, live: bool = True) -> Any:
        value = self.and_(live)
        while self.peek().text == "||":
            self.take()
            decided = live and truthy(value)
            right = self.and_(live and not decided)
            if live and not decided:
                value = right
        return value

    def and_(self, live: bool = True) -> Any:
        value = self.compare(live)
        while self.peek().text == "&&":
            self.take()
            decided = live and not truthy(value)
            right = self.compare(live and not decided)
            if live and not decided:
                value = right
        return value

    def compare(self, live: bool) -> Any:
        value = self.unary(live)
        while self.peek().text in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            right = self.unary(live)
            if live:
                value = _compare(op, value, right)
        return value

    def unary(self, live: bool) -> Any:
        if self.peek().text == "!":
            self.take()
            value = self.unary(live)
            return (not truthy(value)) if live else None
        return self.postfix(live)

    def postfix(self, live: bool) -> Any:
        value = self.primary(live)
        while self.peek().text in (".", "["):
            if self.take().text == ".":
                tok = self.take()
                if tok.text == "*":
                    value = _star(value)
                    continue
                if tok.kind != "name":
                    raise ExpressionError(f"expected a property name at position {tok.pos + 1}")
                value = _index(value, tok.text) if live else None
            else:
                key = self.or_(live)
                self.take("]")
                value = _index(value, key) if live else None
        return value

    def primary(self, live: bool) -> Any:
        tok = self.take()
        if tok.kind == "string":
            return tok.text[1:-1].replace("''", "'")
        if tok.kind == "number":
            return _number(tok.text)
        if tok.text == "(":
            value = self.or_(live)
            self.take(")")
            return value
        if tok.kind == "name":
            word = tok.text
            if self.peek().text == "(":
                return self.call(tok, live)
            if word in ("true", "false"):
                return word == "true"
            if word == "null":
                return None
            if word not in self.contexts:
                known = ", ".join(sorted(self.contexts))
                raise ExpressionError(f"unknown context {word!r}; known: {known}")
            return self.contexts[word]
        found = tok.text or "the end"
        raise ExpressionError(f"unexpected {found!r} at position {tok.pos + 1}")

    def call(self, name: _Token, live: bool) -> Any:
        self.take("(")
        args = []
        if self.peek().text != ")":
            args.append(self.or_(live))
            while self.peek().text == ",":
                self.take()
                args.append(self.or_(live))
        self.take(")")
        fn = self.functions.get(name.text.lower()) or _FUNCTIONS.get(name.text.lower())
        if fn is None:
            raise ExpressionError(f"unknown function {name.text}() at position {name.pos + 1}")
        return fn(*args) if live else None


def _number(text: str) -> float:
    t = text.lower()
    if t.startswith(("0x", "-0x")):
        return float(int(t, 16))
    return float(t)


def to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return 0.0
        try:
            return _number(s)
        except ValueError:
            return math.nan
    return math.nan


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def to_string(value: Any) -> str:
    """A value as the runner writes it into a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "!=":
        return not _compare("==", left, right)
    same_kind = type(left) is type(right) or (
        isinstance(left, int | float)
        and isinstance(right, int | float)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    )
    if same_kind and isinstance(left, str):
        a: Any = left.casefold()
        b: Any = right.casefold()
    elif same_kind and isinstance(left, dict | list):
        if op == "==":
            return left is right
        return False
    else:
        a, b = to_number(left), to_number(right)
        if math.isnan(a) or math.isnan(b):
            return False
    if op == "==":
        return bool(a == b)
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        if not isinstance(key, str):
            return None
        if key in value:
            return value[key]
        lowered = key.lower()  # context property names are case-insensitive
        return next((v for k, v in value.items() if k.lower() == lowered), None)
    if isinstance(value, list):
        n = to_number(key)
        if math.isnan(n) or not n.is_integer() or not 0 <= n < len(value):
            return None
        return value[int(n)]
    return None


def _star(value: Any) -> Any:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    return []


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(_compare("==", x, item) for x in search)
    return to_string(item).casefold() in to_string(search).casefold()


def _format(fmt: Any, *args: Any) -> str:
    text = to_string(fmt)

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        index = int(m.group(1))
        if index >= len(args):
            raise ExpressionError(f"format(): no argument for {{{index}}}")
        return to_string(args[index])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", sub, text)


def _join(value: Any, sep: Any = ",") -> str:
    if isinstance(value, list):
        return to_string(sep).join(to_string(v) for v in value)
    return to_string(value)


def _from_json(value: Any) -> Any:
    try:
        return json.loads(to_string(value))
    except json.JSONDecodeError as exc:
        raise ExpressionError(f"fromJSON(): not JSON ({exc.msg})") from None


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda s, p: to_string(s).casefold().startswith(to_string(p).casefold()),
    "endswith": lambda s, p: to_string(s).casefold().endswith(to_string(p).casefold()),
    "format": _format,
    "join": _join,
    "tojson": lambda v: json.dumps(v, indent=2),
    "fromjson": _from_json,
}

STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


def evaluate(source: str, contexts: Mapping[str, Any], functions: Functions | None = None) -> Any:
    """The value of one expression (the text between ``${{`` and ``}}``)."""
    return _Parser(source, contexts, functions or {}).parse()


_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def interpolate(text: str, contexts: Mapping[str, Any], functions: Functions | None = None) -> str:
    """``text`` with every ``${{ expr }}`` replaced by its value as a string."""
    return _TEMPLATE.sub(lambda m: to_string(evaluate(m.group(1), contexts, functions)), text)


def condition(text: str, contexts: Mapping[str, Any], functions: Functions) -> bool:
    """An ``if:`` value: ``${{ }}`` optional, and ``success() &&`` implied unless the
    expression calls a status function itself (as the runner does)."""
    source = text.strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", source, re.DOTALL)
    if m:
        source = m.group(1)
    if not source.strip():
        source = "success()"
    elif not re.search(r"\b(" + "|".join(STATUS_FUNCTIONS) + r")\s*\(", source, re.IGNORECASE):
        source = f"success() && ({source})"
    return truthy(evaluate(source, contexts, functions))
