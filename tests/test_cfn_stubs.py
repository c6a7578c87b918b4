"""Every resource type CloudFormation knows (the provider schemas cfn-lint ships, ~1,900) gets a
stub whose physical id and every ``Fn::GetAtt`` attribute fit the type's own schema: type,
pattern, enum, lengths, required members."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import regex
from jsonschema import validators

from motobox.emulation.cloudformation import stubs

TYPES = stubs.all_types()


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    """Patterns as the schemas mean them (written for Java: ``[\\p{Print}&&[^|]]``)."""
    if isinstance(instance, str) and not regex.compile(pattern, flags=regex.V1).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})


@functools.cache
def _validator(type_name: str, pointer: str) -> Any:
    schema = stubs.schema(type_name) or {}
    root = {
        "definitions": schema.get("definitions", {}),
        "$defs": {"target": stubs.subschema(schema, pointer)},
        "$ref": "#/$defs/target",
    }
    return Validator(root)


def test_the_schemas_are_there() -> None:
    assert len(TYPES) > 1800
    assert "AWS::ServiceCatalog::CloudFormationProduct" in TYPES


@pytest.mark.parametrize("type_name", TYPES)
def test_a_stub_fits_its_types_schema(type_name: str) -> None:
    stub = stubs.Stub(
        type_name, "MyResource", {}, stack_name="app", account="123456789012", region="us-east-1"
    )
    assert stub.physical_resource_id and isinstance(stub.physical_resource_id, str)
    schema = stubs.schema(type_name) or {}
    identifiers = stubs.identifier(type_name, schema)
    parts = [stub.physical_resource_id]
    assert len(parts) == max(len(identifiers), 1)
    for pointer, part in zip(identifiers, parts, strict=False):
        spec = stubs.subschema(schema, pointer)
        if spec.get("type") in (None, "string"):
            errors = list(_validator(type_name, pointer).iter_errors(part))
            assert not errors, f"physical id {pointer}: {errors[0].message}"
    for name in stub.attributes():
        value = stub.get_cfn_attribute(name)
        pointer = "/properties/" + name.replace(".", "/")
        errors = list(_validator(type_name, pointer).iter_errors(value))
        assert not errors, f"Fn::GetAtt {type_name}.{name} = {value!r}: {errors[0].message}"
