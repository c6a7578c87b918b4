"""Templates as CloudFormation reads them: parsing, the order resources are created in,
dynamic references and the SAM transform.

    parse(body)               YAML or JSON -> dict; short-form tags (``!Ref``, ``!GetAtt a.b``,
                              ``!Sub``...) become their long form; scalars keep the text
                              CloudFormation keeps (``2012-10-17`` stays a string: PyYAML's
                              full loader, which moto uses, makes it a ``date``)
    creation_order(template)  logical ids in dependency order: ``DependsOn`` and the
                              resources that ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` name
                              (moto's own order follows ``DependsOn`` only); a cycle or an
                              unknown name is CloudFormation's ``ValidationError``
    resolve_dynamic(value, account, region)
                              ``{{resolve:ssm:...}}``, ``{{resolve:ssm-secure:...}}`` and
                              ``{{resolve:secretsmanager:...}}`` in property values, read
                              from the cloud's own SSM and Secrets Manager state
    expand_transforms(template, ...)
                              ``Transform: AWS::Serverless-2016-10-31`` expanded by
                              ``aws-sam-translator``, the library AWS maintains for it

Nothing here talks to the network; SSM and Secrets Manager are read from moto's backends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

#: Names every template can ``Ref`` besides its parameters and resources.
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)


class TemplateError(Exception):
    """A template CloudFormation refuses before it creates anything (``ValidationError``)."""


# -- parsing -----------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML as CloudFormation reads it: no timestamps (``2012-10-17`` stays text), and the
    short-form intrinsic function tags."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _intrinsic(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    tag = suffix
    key = "Ref" if tag == "Ref" else "Condition" if tag == "Condition" else f"Fn::{tag}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


_Loader.add_multi_constructor("!", _intrinsic)


def parse(body: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A template body (YAML or JSON) as a dict; raises ``TemplateError``."""
    if isinstance(body, Mapping):
        return dict(body)
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    try:
        data = yaml.load(body, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise TemplateError(f"Template format error: not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateError("Template format error: a template is a JSON or YAML object")
    return data


# -- references and order ----------------------------------------------------------------

_SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


def sub_names(text: str) -> Iterator[str]:
    """The names an ``Fn::Sub`` string refers to (``${X}``, ``${X.Attr}``; not ``${!X}``)."""
    for match in _SUB_NAME.finditer(text):
        yield match.group(1).strip()


def references(value: Any) -> Iterator[tuple[str, str | None]]:
    """``(name, attribute)`` for each ``Ref`` (attribute None), ``Fn::GetAtt`` and name in an
    ``Fn::Sub`` string inside ``value``."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                yield arg, None
                return
            if key == "Fn::GetAtt":
                parts = arg.split(".", 1) if isinstance(arg, str) else list(arg or [])
                if parts and isinstance(parts[0], str):
                    yield parts[0], str(parts[1]) if len(parts) > 1 else ""
                yield from references(parts[1:] if not isinstance(arg, str) else [])
                return
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg + [None, {}])[:2]
                variables = variables if isinstance(variables, dict) else {}
                if isinstance(text, str):
                    for name in sub_names(text):
                        base, _, attribute = name.partition(".")
                        if base not in variables:
                            yield base, attribute or None
                yield from references(variables)
                return
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def depends_on(resource: Mapping[str, Any]) -> list[str]:
    raw = resource.get("DependsOn") or []
    return [raw] if isinstance(raw, str) else [str(x) for x in raw]


def dependencies(template: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each resource's logical id -> the resources it needs first, in template order.
    Raises ``TemplateError`` with CloudFormation's words for a name nothing defines."""
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    out: dict[str, list[str]] = {}
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            raise TemplateError(
                f"Template format error: [/Resources/{logical_id}] Every Resources object "
                "must contain a Type member."
            )
        needs: list[str] = []
        for name in depends_on(resource):
            if name not in resources:
                raise TemplateError(
                    f"Template format error: Unresolved resource dependencies [{name}] in the "
                    "Resources block of the template"
                )
            needs.append(name)
        body = {k: v for k, v in resource.items() if k not in ("Type", "DependsOn")}
        for name, attribute in references(body):
            if name in resources:
                needs.append(name)
            elif attribute is None and name not in parameters and name not in PSEUDO_PARAMETERS:
                raise TemplateError(
                    f"Template format error: Unresolved resource dependencies [{name}] in the "
                    "Resources block of the template"
                )
        out[logical_id] = list(dict.fromkeys(n for n in needs if n != logical_id))
    return out


def _slow(resource: Any) -> bool:
    """A custom resource: CloudFormation starts it with everything else that is ready, but
    it answers seconds later (a function runs), after the plain resources started with it."""
    kind = resource.get("Type") if isinstance(resource, dict) else None
    return isinstance(kind, str) and (
        kind == "AWS::CloudFormation::CustomResource" or kind.startswith("Custom::")
    )


def creation_order(template: Mapping[str, Any]) -> list[str]:
    """Logical ids in an order where every resource comes after those it needs (template
    order where there is a choice, custom resources after the others that do not need
    them, as they finish on CloudFormation)."""
    needs = dependencies(template)
    resources = template.get("Resources") or {}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name) :]
            raise TemplateError(
                "Circular dependency between resources: [" + ", ".join(sorted(cycle)) + "]"
            )
        state[name] = 1
        for other in needs[name]:
            visit(other, [*path, name])
        state[name] = 2
        order.append(name)

    for name in needs:
        if not _slow(resources.get(name)):
            visit(name, [])
    for name in needs:
        visit(name, [])
    return order


# -- dynamic references ------------------------------------------------------------------

_DYNAMIC = re.compile(r"\{\{resolve:(ssm|ssm-secure|secretsmanager):([^}]*)\}\}")


class DynamicReferenceError(Exception):
    """A dynamic reference the cloud cannot answer; the message is CloudFormation's."""


def resolve_dynamic(value: Any, account: str, region: str) -> Any:
    """``value`` with every dynamic reference in its strings replaced by what the cloud
    holds; raises ``DynamicReferenceError``."""
    if isinstance(value, str):
        if "{{resolve:" not in value:
            return value
        return _DYNAMIC.sub(lambda m: _resolve_one(m.group(1), m.group(2), account, region), value)
    if isinstance(value, dict):
        return {k: resolve_dynamic(v, account, region) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_dynamic(v, account, region) for v in value]
    return value


def _resolve_one(service: str, key: str, account: str, region: str) -> str:
    if service in ("ssm", "ssm-secure"):
        return _ssm_value(service, key, account, region)
    return _secret_value(key, account, region)


def _ssm_value(service: str, key: str, account: str, region: str) -> str:
    """``NAME``, ``NAME:VERSION`` or the parameter's ARN, as moto's GetParameter reads them."""
    from moto.ssm.models import ssm_backends

    try:
        parameter = ssm_backends[account][region].get_parameter(key)
    except Exception:
        parameter = None
    if parameter is None:
        raise DynamicReferenceError(f"Parameters: [{service}:{key}] cannot be found.")
    if service == "ssm" and parameter.parameter_type == "SecureString":
        raise DynamicReferenceError(
            f"Parameters: [{service}:{key}] is a SecureString; read it with ssm-secure"
        )
    return str(parameter.decrypt(parameter.value))


def _secret_value(key: str, account: str, region: str) -> str:
    """``secret-id:SecretString:json-key:version-stage:version-id`` (all but the id optional);
    the secret id may be an ARN, which holds colons of its own."""
    from moto.secretsmanager.models import secretsmanager_backends

    parts = key.split(":")
    if key.startswith("arn:"):
        secret_id, rest = ":".join(parts[:7]), parts[7:]
    else:
        secret_id, rest = parts[0], parts[1:]
    rest += [""] * (4 - len(rest))
    _field, json_key, stage, version_id = rest[:4]
    backend = secretsmanager_backends[account][region]
    try:
        answer = backend.get_secret_value(
            secret_id,
            version_id or None,  # type: ignore[arg-type]
            stage or (None if version_id else "AWSCURRENT"),  # type: ignore[arg-type]
        )
    except Exception:
        raise DynamicReferenceError(
            "Secrets Manager can't find the specified secret. (Service: AWSSecretsManager; "
            "Status Code: 400; Error Code: ResourceNotFoundException)"
        ) from None
    secret = answer.get("SecretString") if isinstance(answer, dict) else None
    if secret is None:
        raise DynamicReferenceError(
            f"Could not find a SecretString for the secret {secret_id} in Secrets Manager"
        )
    if not json_key:
        return str(secret)
    try:
        document = json.loads(secret)
    except ValueError:
        raise DynamicReferenceError(
            f"Could not parse SecretString JSON for the secret {secret_id}"
        ) from None
    if not isinstance(document, dict) or json_key not in document:
        raise DynamicReferenceError(
            f"Could not find SecretString JSON key {json_key} in the secret {secret_id}"
        )
    return str(document[json_key])


# -- transforms --------------------------------------------------------------------------

SAM = "AWS::Serverless-2016-10-31"


def transforms(template: Mapping[str, Any]) -> list[str]:
    raw = template.get("Transform") or []
    return [raw] if isinstance(raw, str) else [str(t) for t in raw if isinstance(t, str)]


def expand_transforms(
    template: dict[str, Any], parameters: Mapping[str, Any], account: str, region: str
) -> dict[str, Any]:
    """The processed template: the SAM transform expanded. Other transforms are left as
    they are (moto ignores the key). Raises ``TemplateError`` with the translator's words."""
    if SAM not in transforms(template):
        return template
    import copy
    import os

    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    values = dict(parameters)
    values.setdefault("AWS::Region", region)
    values.setdefault("AWS::AccountId", account)
    values.setdefault("AWS::Partition", "aws")
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator reads the region from here
    try:
        processed: dict[str, Any] = transform(copy.deepcopy(template), values, _ManagedPolicies())
    except InvalidDocumentException as exc:
        causes = "; ".join(str(c) for c in getattr(exc, "causes", []) or [])
        raise TemplateError(f"Transform {SAM} failed with: {causes or exc}") from None
    except Exception as exc:
        raise TemplateError(f"Transform {SAM} failed with: {exc}") from None
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    rest = [t for t in transforms(template) if t != SAM]
    processed.pop("Transform", None)
    if rest:
        processed["Transform"] = rest
    return processed


class _ManagedPolicies:
    """The translator's map of AWS managed policy names to ARNs, from moto's copy of them
    (the translator would call IAM ListPolicies)."""

    def load(self) -> dict[str, str]:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        data = json.loads(aws_managed_policies_data)
        return {
            name: f"arn:aws:iam::aws:policy{policy.get('Path', '/')}{name}"
            for name, policy in data.items()
        }
