"""Stand-ins for resources moto does not emulate, shaped by CloudFormation's provider schemas.

cfn-lint (a dependency of moto's CloudFormation) ships the resource provider schema of every
type CloudFormation knows, per region: ``cfnlint/data/schemas/providers/<region>.json`` maps a
type to a file under ``resources/``. A schema says which properties identify a resource
(``primaryIdentifier``: what ``Ref`` returns), which ones AWS sets (``readOnlyProperties``:
what ``Fn::GetAtt`` reads) and the shape of each (``type``, ``pattern``, ``enum``,
``minLength``/``maxLength``, a ``description`` that often shows an example).

    schema(type, region)            the provider schema, or None for a type none lists
    Stub(type, logical id, ...)     a resource that completed without being emulated: its
                                    physical id and every attribute are placeholders
    placeholder(...)                one value that fits a property's schema

A placeholder is made, in order, from the property's ``enum``; its ``pattern`` (a string the
regular expression matches, generated from the parsed expression); an ARN for a name or format
that says ``Arn``; the example in its description ("such as prod-tsjbmal34qvek" gives
``prod-`` and 13 random letters and digits); moto's EC2 id prefixes for EC2 types
(``acl-``, ``dopt-``...); else CloudFormation's generated-name form
``<stack>-<LogicalId>-<RANDOM>``. ``tests/test_cfn_stubs.py`` checks every type's physical id
and attributes against its own schema.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any


@functools.cache
def _schema_root() -> Path | None:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0]) / "data" / "schemas"
    return root if (root / "providers").is_dir() else None


@functools.cache
def _providers(region: str) -> dict[str, str]:
    root = _schema_root()
    if root is None:
        return {}
    path = root / "providers" / f"{region}.json"
    if not path.exists():
        path = root / "providers" / "us-east-1.json"
    return dict(json.loads(path.read_text()))


@functools.cache
def all_types() -> tuple[str, ...]:
    """Every type any region's provider list names."""
    root = _schema_root()
    if root is None:
        return ()
    names: set[str] = set()
    for path in (root / "providers").glob("*.json"):
        if path.name != "sam.json":
            names |= set(json.loads(path.read_text()))
    return tuple(sorted(names))


@functools.cache
def _load(digest: str) -> dict[str, Any] | None:
    root = _schema_root()
    path = root / "resources" / f"{digest}.json" if root else None
    if path is None or not path.exists():
        return None
    return dict(json.loads(path.read_text()))


def schema(type_name: str, region: str = "us-east-1") -> dict[str, Any] | None:
    """The provider schema of ``type_name`` as ``region`` has it (us-east-1's, or any
    region's, when that region does not list it)."""
    digest = _providers(region).get(type_name) or _providers("us-east-1").get(type_name)
    if digest is None:
        for other in _other_regions():
            digest = _providers(other).get(type_name)
            if digest:
                break
    return _load(digest) if digest else None


@functools.cache
def _other_regions() -> tuple[str, ...]:
    root = _schema_root()
    if root is None:
        return ()
    return tuple(p.stem for p in sorted((root / "providers").glob("*.json")) if p.stem != "sam")


def _pointer_parts(pointer: str) -> list[str]:
    return [p for p in pointer.split("/")[2:] if p and p != "*"]


def subschema(resource_schema: Mapping[str, Any], pointer: str) -> dict[str, Any]:
    """The schema of the property at ``/properties/A/B`` ($refs followed)."""
    node: Any = {"properties": resource_schema.get("properties", {})}
    for part in _pointer_parts(pointer):
        node = _deref(resource_schema, node)
        if node.get("type") == "array" or "items" in node:
            node = _deref(resource_schema, node.get("items", {}))
        node = (node.get("properties") or {}).get(part, {})
    return _deref(resource_schema, node)


def _deref(resource_schema: Mapping[str, Any], node: Any) -> dict[str, Any]:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        ref = str(node["$ref"])
        target: Any = resource_schema
        for part in ref.lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
        seen += 1
    if isinstance(node, dict):
        for key in ("anyOf", "oneOf", "allOf"):
            options = node.get(key)
            if options and "type" not in node and "pattern" not in node:
                merged = dict(node)
                merged.pop(key)
                merged.update(_deref(resource_schema, options[0]))
                return merged
    return node if isinstance(node, dict) else {}


# -- placeholders ------------------------------------------------------------------------


#: The part of a composite primary identifier that CloudFormation's Ref returns, as each
#: type's documentation says, where the rule in ``identifier`` would not find it (and, for
#: the common types CDK and SAM stacks stub, stated outright).
_REF_PART = {
    "AWS::ApiGateway::Authorizer": "AuthorizerId",
    "AWS::ApiGateway::DocumentationPart": "DocumentationPartId",
    "AWS::ApiGateway::DocumentationVersion": "DocumentationVersion",
    "AWS::ApiGateway::Model": "Name",
    "AWS::ApiGateway::RequestValidator": "RequestValidatorId",
    "AWS::ApiGateway::Stage": "StageName",
    "AWS::ApiGatewayV2::ApiMapping": "ApiMappingId",
    "AWS::ApiGatewayV2::Authorizer": "AuthorizerId",
    "AWS::ApiGatewayV2::Deployment": "DeploymentId",
    "AWS::ApiGatewayV2::Integration": "IntegrationId",
    "AWS::ApiGatewayV2::IntegrationResponse": "IntegrationResponseId",
    "AWS::ApiGatewayV2::Model": "ModelId",
    "AWS::ApiGatewayV2::Route": "RouteId",
    "AWS::ApiGatewayV2::RouteResponse": "RouteResponseId",
    "AWS::ApiGatewayV2::Stage": "StageName",
    "AWS::Cognito::UserPoolClient": "ClientId",
    "AWS::Cognito::UserPoolDomain": "Domain",
    "AWS::Cognito::UserPoolGroup": "GroupName",
    "AWS::Cognito::UserPoolIdentityProvider": "ProviderName",
    "AWS::Cognito::UserPoolResourceServer": "Identifier",
    "AWS::IAM::GroupPolicy": "PolicyName",
    "AWS::IAM::RolePolicy": "PolicyName",
    "AWS::IAM::UserPolicy": "PolicyName",
    "AWS::Logs::LogStream": "LogStreamName",
    "AWS::Logs::MetricFilter": "FilterName",
    "AWS::Logs::SubscriptionFilter": "FilterName",
    "AWS::Route53::RecordSet": "Name",
}


def identifier(type_name: str, resource_schema: Mapping[str, Any]) -> list[str]:
    """The pointers of the properties that make a stub's physical id (and Ref).

    A type identified by its parent and itself (``primaryIdentifier`` [RestApiId,
    StageName]) has CloudFormation's physical id and Ref of its own part: a Stage's
    StageName, a Resource's ResourceId, never "api-id|Prod" (which made quickstart-git2s3's
    webhook URL output "https://ID.execute-api.../ID|Prod/gitpull"). The own part is the
    one ``_REF_PART`` names, else the first read-only one, else the last.
    """
    pointers = list(resource_schema.get("primaryIdentifier") or [])
    if len(pointers) < 2:
        return pointers
    read_only = set(resource_schema.get("readOnlyProperties") or [])
    own = _REF_PART.get(type_name)
    return (
        [p for p in pointers if p == f"/properties/{own}"]
        or [p for p in pointers if p in read_only][:1]
        or pointers[-1:]
    )


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso"):
        return "aws-iso"
    return "aws"


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def _token(seed: str, length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    while len(digest) < length:
        digest += hashlib.sha256(digest).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


class Naming:
    """What placeholders of one resource are made from."""

    def __init__(
        self, type_name: str, logical_id: str, stack_name: str, account: str, region: str
    ) -> None:
        self.type_name = type_name
        self.logical_id = logical_id
        self.stack_name = stack_name
        self.account = account
        self.region = region
        self.seed = f"{stack_name}/{logical_id}/{type_name}"
        parts = type_name.split("::")
        self.service = parts[1].lower() if len(parts) > 2 else "resource"
        self.resource = parts[-1]

    def generated_name(self, max_length: int | None = None) -> str:
        """CloudFormation's generated physical names: ``stack-LogicalId-RANDOM``."""
        suffix = _token(self.seed, 12)
        name = f"{self.stack_name}-{self.logical_id}-{suffix}"
        if max_length and len(name) > max_length:
            keep = max(max_length - len(suffix) - 1, 1)
            name = f"{self.stack_name}-{self.logical_id}"[:keep].rstrip("-") + "-" + suffix
            name = name[-max_length:] if len(name) > max_length else name
        return name

    def arn(self, name: str | None = None, service: str | None = None) -> str:
        return (
            f"arn:{partition_of(self.region)}:{service or self.service}:{self.region}:"
            f"{self.account}:{_kebab(self.resource)}/{name or self.generated_name()}"
        )


def placeholder(
    prop: str, spec: Mapping[str, Any], naming: Naming, resource_schema: Mapping[str, Any]
) -> Any:
    """A value for the read-only property ``prop`` that fits ``spec``."""
    spec = _deref(resource_schema, spec)
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = kind[0] if kind else None
    if "enum" in spec and spec["enum"]:
        return spec["enum"][0]
    if kind == "array":
        item = placeholder(prop, spec.get("items", {}), naming, resource_schema)
        return [item] * max(int(spec.get("minItems", 1) or 1), 1)
    if kind == "object" or "properties" in spec:
        for key in ("oneOf", "anyOf"):
            if spec.get(key):
                option = _deref(resource_schema, spec[key][0])
                spec = {
                    **spec,
                    "properties": {
                        **(spec.get("properties") or {}),
                        **option.get("properties", {}),
                    },
                    "required": [*(spec.get("required") or []), *option.get("required", [])],
                }
        members = spec.get("properties") or {}
        return {
            name: placeholder(name, members.get(name, {}), naming, resource_schema)
            for name in spec.get("required") or []
        }
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = spec.get("minimum", spec.get("exclusiveMinimum", 0))
        number = max(int(low) + (1 if "exclusiveMinimum" in spec else 0), 1)
        if "maximum" in spec and number > spec["maximum"]:
            number = int(spec["maximum"])
        return number
    options = spec.get("anyOf") or spec.get("oneOf")
    if options:  # a value that fits one of the options and the schema around them
        base = {k: v for k, v in spec.items() if k not in ("anyOf", "oneOf")}
        for option in options:
            merged = {**base, **_deref(resource_schema, option)}
            outer = (base["pattern"],) if base.get("pattern") else ()
            value = _string(prop, merged, naming, outer)
            if all(_fits(value, p, 0, None) for p in outer):
                return value
    return _string(prop, spec, naming)


def _string(prop: str, spec: Mapping[str, Any], naming: Naming, also: tuple[str, ...] = ()) -> str:
    """A string for ``spec`` that the patterns in ``also`` match too."""
    low = int(spec.get("minLength", 0) or 0)
    high = spec.get("maxLength")
    high = int(high) if high is not None else None
    pattern = spec.get("pattern")
    candidates: list[str] = []
    arnish = prop.endswith(("Arn", "ARN", "Arns")) or str(spec.get("format", "")).endswith(".Arn")
    if arnish:
        # The service in an ARN is often not the type's namespace (CertificateManager: acm);
        # a pattern that spells it out says which.
        named = _ARN_SERVICE.search(str(pattern or ""))
        if named:
            candidates.append(naming.arn(service=named.group(1)))
        candidates.append(naming.arn())
    example = _example(str(spec.get("description", "")))
    if example:
        candidates.append(_alike(example, naming.seed))
    ec2 = _ec2_id(naming, prop)
    if ec2:
        candidates.append(ec2)
    candidates.append(naming.generated_name(high))
    for source in (pattern, *also):
        if source:
            generated = _from_pattern(str(source), naming.seed, low, high)
            if generated is not None:
                candidates.append(generated)
    for candidate in candidates:
        if _fits(candidate, pattern, low, high) and all(_fits(candidate, p, 0, None) for p in also):
            return candidate
    value = candidates[0] if candidates else naming.generated_name()
    if high is not None:
        value = value[:high]
    return value.ljust(low, "0")


def _fits(value: str, pattern: Any, low: int, high: int | None) -> bool:
    if len(value) < low or (high is not None and len(value) > high):
        return False
    if pattern:
        compiled = _compile(str(pattern))
        return compiled is None or compiled.search(value) is not None
    return True


@functools.cache
def _compile(pattern: str) -> Any:
    """The schemas' patterns are written for Java (``[\\p{Print}&&[^|:/]]``): the ``regex``
    module's version 1 reads set operations as Java does."""
    import warnings

    import regex

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for flags in (regex.V1, 0):
            try:
                return regex.compile(pattern, flags=flags)
            except Exception:
                continue
    return None


_ARN_SERVICE = re.compile(r"arn:[^:]*?:([a-z][a-z0-9-]*):")
_EXAMPLE = re.compile(
    r"(?:such as|for example,?|e\.g\.,?|example:)\s+[`'\"]?([A-Za-z0-9][\w\-/:.]*[A-Za-z0-9])",
    re.IGNORECASE,
)


def _example(description: str) -> str | None:
    match = _EXAMPLE.search(description)
    if not match:
        return None
    token = match.group(1)
    # An example id mixes letters and digits or has a prefix ("prod-tsjbmal34qvek");
    # plain words ("such as the name") are not examples.
    if not (re.search(r"\d", token) and re.search(r"[A-Za-z]", token)) and "-" not in token:
        return None
    return token


def _alike(example: str, seed: str) -> str:
    """``example`` with its variable part made new: the text after the last separator keeps
    its length and its mix of letters and digits."""
    head, sep, tail = example.rpartition("-") if "-" in example else ("", "", example)
    if not tail:
        return example
    lower = tail.lower() == tail
    alphabet = string.ascii_lowercase + string.digits if lower else string.ascii_letters
    if tail.isdigit():
        alphabet = string.digits
    return f"{head}{sep}{_token(seed, len(tail), alphabet)}"


def _ec2_id(naming: Naming, prop: str) -> str | None:
    """An EC2 id with moto's prefix for the type (``acl-...`` for a network ACL)."""
    if naming.service != "ec2" or not (prop == "Id" or prop.endswith("Id")):
        return None
    try:
        from moto.ec2.utils import EC2_RESOURCE_TO_PREFIX
    except ImportError:
        return None
    base = prop[:-2] if prop.endswith("Id") and prop != "Id" else naming.resource
    prefix = EC2_RESOURCE_TO_PREFIX.get(_kebab(base))
    if prefix is None:
        return None
    return f"{prefix}-{_token(naming.seed, 17, '0123456789abcdef')}"


# A string a regular expression matches, built from Python's parse of it.


_UNICODE_CLASS = re.compile(r"\\[pP]\{(\w+)\}")


def _python_pattern(pattern: str) -> str:
    r"""``pattern`` in the dialect Python's parser reads: the schemas are written for Java and
    JavaScript (``\p{Print}``, ``[a&&[^b]]``), which only the ``regex`` module matches."""
    text = re.sub(r"&&\[[^\]]*\]", "", pattern)

    def unicode_class(match: re.Match[str]) -> str:
        return r"\x00-\x1f" if match.group(1).startswith("C") else "a-zA-Z0-9"

    text = _UNICODE_CLASS.sub(unicode_class, text)
    return re.sub(r"(?<!\[)(?<!\\)a-zA-Z0-9(?![^\[]*\])", "[a-zA-Z0-9]", text)


def _from_pattern(pattern: str, seed: str, low: int, high: int | None) -> str | None:
    import re._parser as parser
    import warnings

    compiled = _compile(pattern)
    parsed = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "possible set union": Java's [a&&[b]]
        for text in (pattern, _python_pattern(pattern)):
            try:
                parsed = parser.parse(text)
                break
            except Exception:
                continue
    if parsed is None:
        return None
    for prefer_min in (False, True):
        text = ""
        for extra in range(0, 64):
            try:
                text = _emit(parsed, parser, prefer_min, [extra])
            except Exception:
                return None
            if len(text) >= low:
                break
        if high is not None and len(text) > high:
            text = text[:high]  # an unanchored pattern may still find what it needs
        if len(text) < low:
            continue
        if compiled is None or compiled.search(text):
            return text
    return None


def _emit(items: Any, p: Any, prefer_min: bool, extra: list[int]) -> str:
    return "".join(_emit_one(op, arg, p, prefer_min, extra) for op, arg in items)


def _emit_one(op: Any, arg: Any, p: Any, prefer_min: bool, extra: list[int]) -> str:
    """One item of a parsed expression; ``extra`` repetitions go to the first repeats that
    allow more (to reach a ``minLength``)."""
    c = p  # the constants live beside the parser
    if op is c.LITERAL:
        return chr(arg)
    if op is c.NOT_LITERAL:
        return "a" if chr(arg) != "a" else "b"
    if op is c.ANY:
        return "a"
    if op is c.IN:
        return _class_char(arg, c)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        low, high, sub = arg
        count = low if prefer_min else max(low, 1)
        room = 1 << 30 if high is c.MAXREPEAT else high
        count = min(count, room)
        more = min(extra[0], room - count)
        extra[0] -= more
        return "".join(_emit(sub, p, prefer_min, extra) for _ in range(count + more))
    if op is c.SUBPATTERN:
        return _emit(arg[-1], p, prefer_min, extra)
    if op is getattr(c, "ATOMIC_GROUP", None):
        return _emit(arg, p, prefer_min, extra)
    if op is c.BRANCH:
        return _emit(arg[1][0], p, prefer_min, extra)
    if op is c.CATEGORY:
        return _category_char(arg, c)
    return ""  # anchors, look-arounds, back references


def _category_char(category: Any, c: Any) -> str:
    name = str(category)
    if "NOT_DIGIT" in name or "NOT_SPACE" in name:
        return "a"
    if "NOT_WORD" in name:
        return "-"
    if "DIGIT" in name:
        return "1"
    if "SPACE" in name:
        return " "
    return "a"


def _class_char(items: Any, c: Any) -> str:
    negate = any(op is c.NEGATE for op, _ in items)
    members = [(op, arg) for op, arg in items if op is not c.NEGATE]
    if not negate:
        # Prefer a lower-case letter or a digit when the class offers one (readable ids).
        for want in "a1":
            for op, arg in members:
                if op is c.RANGE and arg[0] <= ord(want) <= arg[1]:
                    return want
                if op is c.CATEGORY and _category_char(arg, c) == want:
                    return want
        op, arg = members[0]
        if op is c.LITERAL:
            return chr(arg)
        if op is c.RANGE:
            return chr(arg[0])
        if op is c.CATEGORY:
            return _category_char(arg, c)
        return "a"
    for candidate in "a1-_xZ.":
        if not _in_class(candidate, members, c):
            return candidate
    return "~"


def _in_class(ch: str, members: Any, c: Any) -> bool:
    code = ord(ch)
    for op, arg in members:
        if op is c.LITERAL and arg == code:
            return True
        if op is c.RANGE and arg[0] <= code <= arg[1]:
            return True
        if op is c.CATEGORY:
            name = str(arg)
            matches = {
                "DIGIT": ch.isdigit(),
                "WORD": ch.isalnum() or ch == "_",
                "SPACE": ch.isspace(),
            }
            for key, value in matches.items():
                if key in name and (("NOT_" in name) != value):
                    return True
    return False


# -- the stand-in resource ---------------------------------------------------------------


class Stub:
    """A resource that completed without being emulated (moto's resource interface:
    ``physical_resource_id``, ``get_cfn_attribute``, ``delete``)."""

    emulated = False

    def __init__(
        self,
        type_name: str,
        logical_id: str,
        properties: Mapping[str, Any],
        *,
        stack_name: str,
        account: str,
        region: str,
    ) -> None:
        self.cf_resource_type = type_name
        self.logical_resource_id = logical_id
        self.properties = dict(properties or {})
        self.naming = Naming(type_name, logical_id, stack_name, account, region)
        self.schema = schema(type_name, region) or {}
        self._values: dict[str, Any] = {}
        self.physical_resource_id = self._physical_id()

    def _physical_id(self) -> str:
        pointers = identifier(self.cf_resource_type, self.schema)
        parts = []
        for pointer in pointers:
            name = "/".join(_pointer_parts(pointer))
            given = self.properties.get(name) if "/" not in name else None
            if isinstance(given, str | int | float) and not isinstance(given, bool):
                parts.append(str(given))
            else:
                parts.append(str(self.attribute(name.replace("/", "."))))
        if not parts:
            return self.naming.generated_name()
        return "|".join(parts)

    def attributes(self) -> list[str]:
        """The ``Fn::GetAtt`` names of this type (its read-only properties)."""
        return [".".join(_pointer_parts(p)) for p in self.schema.get("readOnlyProperties") or []]

    def has_attribute(self, name: str) -> bool:
        if not self.schema:
            return True
        return name in self.attributes() or name.split(".")[0] in (
            self.schema.get("properties") or {}
        )

    def attribute(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if name in self.properties:
            value = self.properties[name]
        elif self.schema:
            pointer = "/properties/" + name.replace(".", "/")
            value = placeholder(
                name.rsplit(".", 1)[-1], subschema(self.schema, pointer), self.naming, self.schema
            )
        else:
            value = self.naming.arn() if name.endswith("Arn") else self.naming.generated_name()
        self._values[name] = value
        return value

    # moto's interface
    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if not self.has_attribute(attribute_name):
            from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

            raise UnformattedGetAttTemplateException()
        return self.attribute(attribute_name)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        return None
