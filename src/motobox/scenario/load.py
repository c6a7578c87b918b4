"""Scenario files: load, validate, and turn into the data the runtime uses.

    bytes -> YAML nodes (PyYAML ``compose``: every node keeps its line and column)
          -> plain data + a map from each value's path to its place in the file
          -> JSON Schema (``schema/scenario.schema.json``, shipped for editors too):
             unknown keys, wrong types, bad values
          -> botocore's models: unknown services and operations ("did you mean"), ``respond``
             and ``patch`` checked against the operation's output shape, ``setup`` methods
          -> ``Scenario`` (frozen dataclasses)

Every problem becomes one line ``file:line:col: what is wrong; what to write instead``, and all
of a file's problems are reported together in a ``ScenarioError`` (exit code 2). A change sent to
a running cloud (``load_change``: JSON from the control API or ``cloud.rules.add``) goes
through the same steps, its places counted in the JSON text. Any input,
however broken, gives a ``Scenario`` or a ``ScenarioError``, never another exception.

botocore's models are loaded only for the services a file names; the "did you mean" index of
service names is the list of model folders (cheap), built on the error path only.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from motobox.errors import UsageError
from motobox.sandbox.egress import Stub
from motobox.scenario import Scenario, combine
from motobox.scenario.model import (
    CallExpectation,
    Credentials,
    CredentialsSpec,
    CustomResourceAnswer,
    DnsRule,
    ErrorSpec,
    Expectations,
    FailStack,
    Rule,
    SetupStep,
    TransportFault,
)

SCHEMA_PATH = Path(__file__).parent / "schema" / "scenario.schema.json"
MAX_NODES = 100_000
MAX_DEPTH = 64

Place = tuple[int, int]  # line, column (1-based)
JsonPath = tuple[str | int, ...]


class ScenarioError(UsageError):
    """One or more problems in scenario files; each a line ``file:line:col: ...``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [" ".join(p.split()) for p in problems]  # one line each, always
        super().__init__("\n".join(problems))

    def line(self) -> str:
        return "\n".join(self.problems)


# -- YAML with places --------------------------------------------------------------------


class _Document:
    """The data of one YAML document, with the place of every value and key."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.places: dict[JsonPath, Place] = {}
        self.key_places: dict[JsonPath, Place] = {}
        self.problems: list[str] = []
        self._count = 0

    def at(self, path: JsonPath, *, key: bool = False) -> str:
        places = self.key_places if key else self.places
        while path not in places and path:
            path = path[:-1]
        line, col = places.get(path, (1, 1))
        return f"{self.where}:{line}:{col}"

    def under(self, prefix: JsonPath) -> None:
        """The data now sits at ``prefix`` of a larger document (a live change's one rule
        becomes ``rules[0]`` of a scenario): every place moves there."""
        self.places = {(*prefix, *path): place for path, place in self.places.items()}
        self.key_places = {(*prefix, *path): place for path, place in self.key_places.items()}

    def build(self, node: yaml.Node, path: JsonPath = (), depth: int = 0) -> Any:
        self._count += 1
        if self._count > MAX_NODES or depth > MAX_DEPTH:
            raise _TooBig(node)
        self.places[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Bad(key_node, "a key must be a plain word")
                key = key_node.value
                if key == "<<":
                    raise _Bad(key_node, "merge keys (<<) are not supported; write the keys out")
                if key in out:
                    raise _Bad(key_node, f"duplicate key {key!r}; keep one")
                self.key_places[(*path, key)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        value = yaml.SafeLoader("").construct_object(node)
        if isinstance(value, bytes | set) or type(value).__name__ in ("date", "datetime"):
            return str(node.value)
        if isinstance(value, float) and value != value:  # NaN
            raise _Bad(node, "NaN is not a value here")
        return value


class _Bad(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        self.node, self.message = node, message


class _TooBig(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _read(path: Path, where: str) -> tuple[Any, _Document]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([f"{where}: cannot read it ({exc.strerror}); check the path"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            [f"{where}: not UTF-8 text (byte {exc.start}); save it as UTF-8 YAML"]
        ) from None
    return _parse(text, where)


def _parse(text: str, where: str) -> tuple[Any, _Document]:
    """YAML (JSON too) text -> plain data and the place of every value."""
    doc = _Document(where)
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "not valid YAML"
        raise ScenarioError([f"{where}:{line}:{col}: YAML: {what}"]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise ScenarioError([f"{where}:1:1: YAML: {type(exc).__name__}: {exc}"]) from None
    if len(nodes) > 1:
        raise ScenarioError([f"{where}: holds {len(nodes)} YAML documents; keep one per file"])
    if not nodes or nodes[0] is None:
        return {}, doc
    try:
        data = doc.build(nodes[0])
    except _Bad as exc:
        m = exc.node.start_mark
        raise ScenarioError([f"{where}:{m.line + 1}:{m.column + 1}: {exc.message}"]) from None
    except _TooBig as exc:
        m = exc.node.start_mark
        raise ScenarioError(
            [
                f"{where}:{m.line + 1}:{m.column + 1}: too large or too deeply nested "
                f"(aliases expanding?); keep scenarios small and plain"
            ]
        ) from None
    except (RecursionError, ValueError, TypeError, yaml.YAMLError) as exc:
        raise ScenarioError([f"{where}:1:1: cannot read it: {exc}"]) from None
    return data, doc


# -- schema ------------------------------------------------------------------------------


@functools.cache
def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_PATH.read_text()))


@functools.cache
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def _schema_at(path: Sequence[Any]) -> dict[str, Any]:
    """The sub-schema that describes ``path`` (for listing allowed keys)."""
    node: dict[str, Any] = schema()
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
    return node


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _schema_problems(data: Any, doc: _Document) -> list[str]:
    problems = []
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(_schema_at(path).get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    problems.append(
                        f"{doc.at((*path, key), key=True)}: unknown key {key!r}"
                        f"{_did_you_mean(key, allowed)} (allowed: {', '.join(allowed)})"
                    )
            continue
        where = doc.at(path)
        label = ".".join(str(p) for p in path) or "the file"
        if error.validator == "type":
            want = error.validator_value
            want = " or ".join(want) if isinstance(want, list) else want
            problems.append(
                f"{where}: {label} must be {_article(want)}, not {_describe(error.instance)}"
            )
        elif error.validator == "required":
            problems.append(f"{where}: {label}: {error.message}; add it")
        elif error.validator == "pattern" and path and path[-1] == "operation":
            problems.append(
                f"{where}: {label} {error.instance!r} must be written service:Operation, "
                "e.g. cloudformation:CreateStack"
            )
        elif error.validator == "enum" and isinstance(error.instance, str):
            choices = [str(c) for c in error.validator_value]
            problems.append(
                f"{where}: {label}: {error.instance!r} is not one of {', '.join(choices)}"
                f"{_did_you_mean(error.instance, choices)}"
            )
        elif error.validator == "const":
            problems.append(
                f"{where}: {label} must be {json.dumps(error.validator_value)}, "
                f"not {_describe(error.instance)}"
            )
        elif error.validator == "anyOf" and path and path[0] == "rules":
            problems.append(
                f"{where}: rule {path[1]} has no effect; give it one of error, respond, patch, "
                "latency, fail_stack, custom_resource, reset, hang, truncate, throttle_bandwidth"
            )
        else:
            problems.append(f"{where}: {label}: {error.message}")
    return problems


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _describe(value: Any) -> str:
    kind = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "empty",
    }.get(type(value), "a value")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return f"{kind} ({value!r})"
    return kind


# -- botocore checks ---------------------------------------------------------------------


def _services() -> tuple[str, ...]:
    from motobox.aws.models import service_names

    return service_names()


def _service_model(name: str) -> Any:
    from motobox.aws.models import service_model

    return service_model(name)


def _check_service(service: str, where: str) -> str | None:
    if service in _services():
        return None
    return f"{where}: unknown service {service!r}{_did_you_mean(service, _services())}"


def _check_operation(spec: str, where: str) -> tuple[Any, str | None]:
    """The botocore operation model of ``service:Operation``, or a problem line."""
    service, _, operation = spec.partition(":")
    problem = _check_service(service, where)
    if problem:
        return None, problem
    names = _service_model(service).operation_names
    if operation not in names:
        return None, (
            f"{where}: {service} has no operation {operation!r}{_did_you_mean(operation, names)}"
        )
    return _service_model(service).operation_model(operation), None


def _check_value(value: Any, shape: Any, label: str, doc: _Document, at: JsonPath) -> Iterator[str]:
    """Problems of ``value`` (found at ``at`` in the file) against a botocore output shape."""
    if shape is None:
        return
    where = doc.at(at)
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            yield f"{where}: {label} must be a mapping, not {_describe(value)}"
            return
        for key, sub in value.items():
            if key not in shape.members:
                allowed = list(shape.members)
                yield (
                    f"{doc.at((*at, key), key=True)}: {label}.{key}: {shape.name} has no member "
                    f"{key!r}{_did_you_mean(key, allowed)} (members: {', '.join(allowed[:20])})"
                )
                continue
            yield from _check_value(sub, shape.members[key], f"{label}.{key}", doc, (*at, key))
    elif kind == "list":
        if not isinstance(value, list):
            yield f"{where}: {label} must be a list, not {_describe(value)}"
            return
        for i, item in enumerate(value):
            yield from _check_value(item, shape.member, f"{label}[{i}]", doc, (*at, i))
    elif kind == "map":
        if not isinstance(value, Mapping):
            yield f"{where}: {label} must be a mapping, not {_describe(value)}"
            return
        for k, v in value.items():
            yield from _check_value(v, shape.value, f"{label}.{k}", doc, (*at, k))
    elif kind == "string":
        if not isinstance(value, str):
            yield f"{where}: {label} must be a string, not {_describe(value)}"
        elif shape.enum and value not in shape.enum:
            more = ", ..." if len(shape.enum) > 15 else ""
            yield (
                f"{where}: {label}: {value!r} is not a {shape.name}"
                f"{_did_you_mean(value, shape.enum)} (one of: {', '.join(shape.enum[:15])}{more})"
            )
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            yield f"{where}: {label} must be an integer, not {_describe(value)}"
    elif kind in ("float", "double"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            yield f"{where}: {label} must be a number, not {_describe(value)}"
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield f"{where}: {label} must be true or false, not {_describe(value)}"
    elif kind == "timestamp":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            yield f"{where}: {label} must be a timestamp (ISO 8601 or epoch seconds)"
    elif kind == "blob" and not isinstance(value, str | bytes):
        yield f"{where}: {label} must be a string, not {_describe(value)}"


def _patch_shape(shape: Any, path: str) -> tuple[Any, str | None]:
    """The shape a ``patch`` path leads to, or the problem with the path."""
    from motobox.scenario.patch import path_tokens

    try:
        tokens = path_tokens(path)
    except ValueError:
        return None, f"cannot read the path {path!r}; write e.g. Stacks[*].StackStatus"
    for token in tokens:
        if isinstance(token, str):
            if shape is None or shape.type_name != "structure":
                return (
                    None,
                    f"{path}: {token!r} cannot follow a {shape.type_name if shape else 'value'}",
                )
            if token not in shape.members:
                allowed = list(shape.members)
                return None, (
                    f"{path}: {shape.name} has no member {token!r}"
                    f"{_did_you_mean(token, allowed)} (members: {', '.join(allowed[:20])})"
                )
            shape = shape.members[token]
        else:
            if shape.type_name != "list":
                index = "*" if token is None else token
                return None, f"{path}: [{index}] needs a list; {shape.name} is a {shape.type_name}"
            shape = shape.member
    return shape, None


# -- building the scenario ---------------------------------------------------------------


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _semantic(data: dict[str, Any], doc: _Document, where: str) -> list[str]:
    problems: list[str] = []
    for i, rule in enumerate(data.get("rules") or []):
        match = rule.get("match") or {}
        operation = None
        if "operation" in match:
            at = doc.at(("rules", i, "match", "operation"))
            operation, problem = _check_operation(match["operation"], at)
            if problem:
                problems.append(problem)
        if "service" in match:
            problem = _check_service(match["service"], doc.at(("rules", i, "match", "service")))
            if problem:
                problems.append(problem)
        if "fail_stack" in rule and match.get("operation") != "cloudformation:CreateStack":
            problems.append(
                f"{doc.at(('rules', i, 'fail_stack'), key=True)}: fail_stack needs "
                "match: {operation: cloudformation:CreateStack}"
            )
        custom_keys = [k for k in ("resource_type", "logical_id", "stack") if k in match]
        if "custom_resource" in rule:
            calls = [k for k in ("operation", "service", "params") if k in match]
            if calls:
                problems.append(
                    f"{doc.at(('rules', i, 'match', calls[0]), key=True)}: a custom_resource "
                    f"rule matches custom resources, not calls; use resource_type or logical_id "
                    f"instead of {calls[0]}"
                )
            elif not ({"resource_type", "logical_id"} & set(custom_keys)):
                problems.append(
                    f"{doc.at(('rules', i, 'match'))}: custom_resource needs match.resource_type "
                    "or match.logical_id, e.g. match: {resource_type: Custom::AmiLookup}"
                )
        elif custom_keys:
            problems.append(
                f"{doc.at(('rules', i, 'match', custom_keys[0]), key=True)}: match."
                f"{custom_keys[0]} is for custom_resource rules; give the rule a custom_resource "
                "effect or match on operation"
            )
        effects = [
            e
            for e in ("error", "respond", "patch", "fail_stack", "custom_resource", "reset", "hang")
            if e in rule
        ]
        if len(effects) > 1:
            problems.append(
                f"{doc.at(('rules', i, effects[1]), key=True)}: a rule has one effect; "
                f"{' and '.join(effects)} are given (latency may go with any; truncate and "
                "throttle_bandwidth with error, respond, patch or fail_stack)"
            )
        shaping = [k for k in ("truncate", "throttle_bandwidth") if k in rule]
        silent = [k for k in ("reset", "hang", "custom_resource") if k in rule]
        if shaping and silent:
            problems.append(
                f"{doc.at(('rules', i, shaping[0]), key=True)}: {shaping[0]} shapes an answer, "
                f"and {silent[0]} sends none; keep one of them"
            )
        if (
            ("respond" in rule or "patch" in rule)
            and operation is None
            and "operation" not in match
        ):
            key = "respond" if "respond" in rule else "patch"
            problems.append(
                f"{doc.at(('rules', i, key), key=True)}: {key} needs match.operation, "
                "so its fields can be checked and serialized"
            )
        if operation is not None and "respond" in rule:
            problems += list(
                _check_value(
                    rule["respond"], operation.output_shape, "respond", doc, ("rules", i, "respond")
                )
            )
        if operation is not None and isinstance(rule.get("patch"), dict):
            for path, value in rule["patch"].items():
                at = doc.at(("rules", i, "patch", path), key=True)
                shape, problem = _patch_shape(operation.output_shape, path)
                if problem:
                    problems.append(f"{at}: patch {problem}")
                else:
                    problems += list(
                        _check_value(
                            value, shape, f"patch {path}", doc, ("rules", i, "patch", path)
                        )
                    )
    for i, stub in enumerate(data.get("egress") or []):
        given = [k for k in ("reset", "hang", "truncate", "throttle_bandwidth") if k in stub]
        if len(given) > 1 and ("reset" in given or "hang" in given):
            problems.append(
                f"{doc.at(('egress', i, given[1]), key=True)}: {given[0]} and {given[1]} "
                "cannot go together; keep one (truncate and throttle_bandwidth may)"
            )
    for i, step in enumerate(data.get("setup") or []):
        for name in step:
            service, _, method = name.partition(".")
            at = doc.at(("setup", i, name), key=True)
            problem = _check_service(service, at)
            if problem:
                problems.append(problem)
                continue
            from botocore import xform_name

            methods = {xform_name(op): op for op in _service_model(service).operation_names}
            if method not in methods:
                hint = _did_you_mean(method, list(methods))
                problems.append(f"{at}: {service} has no method {method!r}{hint}")
    for kind in ("calls", "no_calls"):
        for i, call in enumerate((data.get("expect") or {}).get(kind) or []):
            _, problem = _check_operation(
                call["operation"], doc.at(("expect", kind, i, "operation"))
            )
            if problem:
                problems.append(problem)
    return problems


def _transport(entry: Mapping[str, Any]) -> TransportFault | None:
    """A rule's or stub's transport fault, or None."""
    if not any(k in entry for k in ("reset", "hang", "truncate", "throttle_bandwidth")):
        return None
    reset = entry.get("reset")
    return TransportFault(
        reset="before" if reset is True else reset,
        hang=bool(entry.get("hang")),
        truncate=entry.get("truncate"),
        throttle_bandwidth=entry.get("throttle_bandwidth"),
    )


def _error_spec(error: Mapping[str, Any]) -> ErrorSpec:
    headers = dict(error.get("headers") or {})
    if "retry_after" in error:
        seconds = float(error["retry_after"])
        headers.setdefault("Retry-After", str(math.ceil(seconds)))
        headers.setdefault("x-amz-retry-after", str(round(seconds * 1000)))
    return ErrorSpec(error["code"], error.get("message", ""), error.get("status", 400), headers)


def _stub_fault(fault: TransportFault | None) -> dict[str, Any]:
    """An egress stub's transport fault, as ``sandbox.egress.Stub`` takes it."""
    if fault is None:
        return {}
    return {
        "reset": bool(fault.reset),
        "hang": fault.hang,
        "truncate": fault.truncate,
        "throttle_bandwidth": fault.throttle_bandwidth,
    }


def _build(data: dict[str, Any], where: str, source: str | None = None) -> Scenario:
    """The scenario ``data`` says; its rules, stubs and DNS entries are named
    ``SOURCE#rules[N]`` (``SOURCE``: the file, unless given)."""
    source = source or where
    rules = []
    for i, r in enumerate(data.get("rules") or []):
        match = r["match"]
        services = None
        operation = None
        if "operation" in match:
            service, _, operation = match["operation"].partition(":")
            services = frozenset({service})
        elif "service" in match:
            services = frozenset({match["service"]})
        error = r.get("error")
        fail = r.get("fail_stack")
        custom = r.get("custom_resource")
        rules.append(
            Rule(
                source=f"{source}#rules[{i}]",
                services=services,
                operation=operation,
                region=match.get("region"),
                account=match.get("account"),
                params=match.get("params"),
                error=_error_spec(error) if error else None,
                respond=r.get("respond"),
                patch=r.get("patch"),
                latency=r.get("latency"),
                fail_stack=FailStack(fail["reason"], fail.get("resource")) if fail else None,
                custom_resource=CustomResourceAnswer(
                    custom["status"],
                    dict(custom.get("data") or {}),
                    custom.get("physical_id"),
                    custom.get("reason"),
                )
                if custom
                else None,
                resource_type=match.get("resource_type"),
                logical_id=match.get("logical_id"),
                stack=match.get("stack"),
                times=r.get("times"),
                after=r.get("after", 0),
                probability=r.get("probability"),
                seed=r.get("seed"),
                transport=_transport(r),
                spec=r,
            )
        )
    egress = tuple(
        Stub(
            source=f"{source}#egress[{i}]",
            url=e.get("url"),
            host=e.get("host"),
            status=e.get("status", 200),
            body=e["body"].encode() if "body" in e else b"",
            json=e.get("json"),
            headers=dict(e.get("headers") or {}),
            **_stub_fault(_transport(e)),
            spec=e,
        )
        for i, e in enumerate(data.get("egress") or [])
    )
    dns = tuple(
        DnsRule(
            source=f"{source}#dns[{i}]",
            name=d["name"].lower().rstrip("."),
            answer=d["answer"],
            type=d.get("type"),
            times=d.get("times"),
            after=d.get("after", 0),
            spec=d,
        )
        for i, d in enumerate(data.get("dns") or [])
    )
    setup = tuple(
        SetupStep(
            source=f"{where}#setup[{i}]",
            service=name.split(".", 1)[0],
            method=name.split(".", 1)[1],
            kwargs=dict(kwargs or {}),
        )
        for i, step in enumerate(data.get("setup") or [])
        for name, kwargs in step.items()
    )
    creds = data.get("credentials")
    credentials: Credentials = (
        "none" if creds == "none" else CredentialsSpec(**creds) if isinstance(creds, dict) else None
    )
    expect = None
    if "expect" in data:
        e = data["expect"] or {}
        expect = Expectations(
            exit_code=e.get("exit_code"),
            calls=tuple(CallExpectation(**c) for c in e.get("calls") or []),
            no_calls=tuple(CallExpectation(**c) for c in e.get("no_calls") or []),
            stdout_contains=_strings(e.get("stdout_contains")),
            stderr_contains=_strings(e.get("stderr_contains")),
            output_contains=_strings(e.get("output_contains")),
        )
    return Scenario(
        path=where,
        name=str(data.get("name") or Path(where).stem),
        setup=setup,
        rules=tuple(rules),
        egress=egress,
        dns=dns,
        credentials=credentials,
        expect=expect,
        strict=bool(data.get("strict", False)),
    )


def load_scenario(path: str | Path, _seen: frozenset[Path] = frozenset()) -> Scenario:
    """Load and check one file (and what it includes); raises ``ScenarioError``."""
    where = str(path)
    real = Path(path).resolve()
    if real in _seen:
        raise ScenarioError([f"{where}: includes itself; remove the loop"])
    data, doc = _read(Path(path), where)
    if not isinstance(data, dict):
        raise ScenarioError(
            [f"{where}:1:1: a scenario is a mapping (name:, rules:, ...), not {_describe(data)}"]
        )
    problems = _schema_problems(data, doc)
    try:
        problems += _semantic(data, doc, where)
    except Exception as exc:
        # The checks against botocore assume the shape the schema demands; where the schema
        # already found the file broken, its lines say what to fix.
        if not problems:
            problems = [f"{where}: cannot check it: {type(exc).__name__}: {exc}"]
    included: list[Scenario] = []
    for i, name in enumerate(data.get("include") or [] if not problems else []):
        target = Path(path).parent / name
        if not target.exists():
            problems.append(
                f"{doc.at(('include', i))}: {name} does not exist (relative to {where})"
            )
            continue
        try:
            included.append(load_scenario(target, _seen | {real}))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    own = _build(data, where)
    if not included:
        return own
    # An included preset's set-up runs first; this file's rules and egress stubs come before
    # the preset's, so that they win (first match wins).
    preset = combine(included)
    merged = combine([preset, own])
    return Scenario(
        path=own.path,
        name=own.name,
        setup=preset.setup + own.setup,
        rules=own.rules + preset.rules,
        egress=own.egress + preset.egress,
        dns=own.dns + preset.dns,
        credentials=merged.credentials,
        expect=merged.expect,
        strict=merged.strict,
    )


#: What a change to a running cloud may hold (``load_change``).
LIVE_KEYS = ("rules", "egress", "dns")
_CHANGE_EXAMPLE = (
    '{"match": {"operation": "sts:GetCallerIdentity"}, "error": {"code": "Throttling"}}'
)


def load_change(text: str, where: str, name: str) -> Scenario:
    """Rules, egress stubs and DNS rules sent to a running cloud (the control API's
    ``POST /_motobox/rules``, ``cloud.rules.add``), checked as a scenario's are: JSON of one
    rule, a list of rules, or ``{"name": ..., "rules": [...], "egress": [...], "dns": [...]}``.
    Problems are the loader's one-line ``WHERE:line:col: ...``; their rules are named
    ``NAME#rules[N]`` (``name`` unless the change names itself)."""
    try:
        plain = json.loads(text)
    except ValueError as exc:
        line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        what = getattr(exc, "msg", str(exc))
        raise ScenarioError(
            [f"{where}:{line}:{col}: JSON: {what}; send a rule as JSON, e.g. {_CHANGE_EXAMPLE}"]
        ) from None
    try:
        data, doc = _parse(text, where)
    except ScenarioError as exc:
        if "duplicate key" in exc.line():
            raise
        data, doc = plain, _Document(where)  # JSON that YAML reads otherwise: no places
    problems: list[str] = []
    if isinstance(data, list):
        data = {"rules": data}
        doc.under(("rules",))
    elif isinstance(data, dict) and "match" in data:
        data = {"rules": [data]}
        doc.under(("rules", 0))
    elif isinstance(data, dict) and data and set(data) <= {"name", *LIVE_KEYS}:
        pass
    elif isinstance(data, dict) and set(data) & set(schema()["properties"]):
        allowed = ["name", *LIVE_KEYS]
        for key in data:
            if key in allowed:
                continue
            if key in schema()["properties"]:
                problems.append(
                    f"{doc.at((key,), key=True)}: {key} cannot change while the cloud runs; "
                    f"send only {', '.join(allowed)} (give {key} to the scenario the cloud "
                    "starts with)"
                )
            else:
                problems.append(
                    f"{doc.at((key,), key=True)}: unknown key {key!r}"
                    f"{_did_you_mean(key, allowed)} (allowed: {', '.join(allowed)})"
                )
        raise ScenarioError(problems)
    else:
        raise ScenarioError(
            [
                f"{where}:1:1: a change is a rule, a list of rules, or "
                f'{{"rules": [...], "egress": [...], "dns": [...]}}, not {_describe(data)}; '
                f"e.g. {_CHANGE_EXAMPLE}"
            ]
        )
    problems += _schema_problems(data, doc)
    try:
        problems += _semantic(data, doc, where)
    except Exception as exc:
        if not problems:
            problems = [f"{where}: cannot check it: {type(exc).__name__}: {exc}"]
    if problems:
        raise ScenarioError(problems)
    given = data.get("name")
    source = given if isinstance(given, str) and given else name
    return dataclasses.replace(_build(data, where, source=source), name=source)


def load_scenarios(paths: Sequence[str | Path]) -> list[Scenario]:
    scenarios, problems = [], []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return scenarios


def check_command(paths: Sequence[str]) -> int:
    """``motobox check FILE...``: one line per file or per problem; 0 or 2."""
    code = 0
    for path in paths:
        try:
            s = load_scenario(path)
        except ScenarioError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            code = 2
            continue
        print(
            f"{path}: ok ({len(s.rules)} rules, {len(s.egress)} egress stubs, "
            f"{len(s.setup)} setup steps{', expectations' if s.expect else ''})"
        )
    return code
