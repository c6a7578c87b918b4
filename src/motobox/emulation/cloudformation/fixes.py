"""Fixes of moto's CloudFormation (moto 5.2.5), applied when the gateway first hands a call to
moto's CloudFormation (``emulation.FIXES["cloudformation"]``).

Three are bugs that real templates hit; each test in ``tests/test_cfn_moto_fixes.py`` also
runs moto's own function (kept as ``motobox_original`` on the fix) and asserts the bug is still
there, so the fix is dropped when moto mends it:

    fix_novalue_in_lists      ``!If [cond, value, !Ref AWS::NoValue]`` inside a list
    fix_yaml_dates            an unquoted ``Version: 2012-10-17`` read as a date
    fix_getatt_unmodelled     ``Fn::GetAtt`` in Outputs on a type moto does not model

The others put the stack engine (``engine``, ``changesets``) in place of moto's own stack
life cycle; ``fix_empty_change_set`` is the fourth bug, the one change sets meet.
"""

from __future__ import annotations

import functools
from typing import Any


def _mark(fixed: Any, original: Any) -> Any:
    fixed.motobox_original = original
    return fixed


def fix_novalue_in_lists() -> None:
    """``!Ref AWS::NoValue`` removes a list item, as it removes a property.

    moto 5.2.5 ``parsing.clean_json`` drops a property whose value resolves to None
    (``AWS::NoValue``) but keeps None items in lists, so
    ``Tags: [!If [HasOwner, {Key: owner, Value: !Ref Owner}, !Ref AWS::NoValue]]`` reaches the
    resource as ``[None]`` and moto's tagging code raises ``TypeError``. CloudFormation
    removes the item. Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_cfn_moto_fixes.py::test_novalue_in_a_list_is_dropped``.
    """
    from moto.cloudformation import parsing

    original = parsing.clean_json
    if getattr(original, "motobox_original", None):
        return

    @functools.wraps(original)
    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            items = (clean_json(item, resources_map) for item in resource_json)
            return [item for item in items if item is not None]
        return original(resource_json, resources_map)

    parsing.clean_json = _mark(clean_json, original)


def fix_yaml_dates() -> None:
    """Templates are read as CloudFormation reads them: ``2012-10-17`` stays a string.

    moto 5.2.5 (``Stack.parse_template``, ``ChangeSet._parse_template``) reads YAML with
    PyYAML's full ``yaml.Loader``, which makes an unquoted ``Version: 2012-10-17`` a
    ``datetime.date``; ``AWS::IAM::ManagedPolicy`` then fails with "Object of type date is
    not JSON serializable" and the half-made stack stays registered. The template reader
    (``template.parse``) keeps the text. Upstream: not reported to moto as of 5.2.5 (searched
    2026-11). Test: ``test_cfn_moto_fixes.py::test_yaml_date_stays_a_string``.
    """
    from moto.cloudformation.models import ChangeSet, Stack

    from motobox.emulation.cloudformation import template

    if getattr(Stack.parse_template, "motobox_original", None):
        return
    original = Stack.parse_template

    def parse_template(body: Any) -> dict[str, Any]:
        return template.parse(body)

    Stack.parse_template = staticmethod(_mark(parse_template, original))  # type: ignore[method-assign]

    def has_template(self: Any, other_template: str) -> bool:
        # moto re-parses into self.template_dict here, which would put a SAM template back in
        # place of the processed one the stack was made from.
        return bool(template.parse(self.template) == template.parse(other_template))

    Stack.has_template = has_template  # type: ignore[method-assign]

    def _parse_template(self: Any) -> None:
        from motobox.emulation.cloudformation import engine

        self.template_dict = engine.prepare(
            self.template,
            self.parameters or {},
            self.stack.account_id,
            self.stack.region_name,
        )

    ChangeSet._parse_template = _parse_template  # type: ignore[method-assign]


def fix_getatt_unmodelled() -> None:
    """An output's ``Fn::GetAtt`` on a type moto does not model is checked against the type's
    provider schema.

    moto 5.2.5 ``ResourceMap.validate_outputs`` calls ``resource_class_from_type(type)``,
    which is None for a type moto does not model, and then ``None.has_cfn_attr(...)``:
    ``AttributeError`` inside CreateStack, no stack registered, a 500 for the program. Here
    such a type's attributes are its schema's read-only properties (the stub answers them),
    and an attribute the schema does not have is CloudFormation's template error.
    Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_cfn_moto_fixes.py::test_getatt_on_an_unmodelled_type_in_outputs``.
    """
    from moto.cloudformation import parsing
    from moto.cloudformation.exceptions import UnsupportedAttribute, ValidationError

    from motobox.emulation.cloudformation import stubs

    original = parsing.ResourceMap.validate_outputs
    if getattr(original, "motobox_original", None):
        return

    def validate_outputs(self: Any) -> None:
        outputs = self._template.get("Outputs") or {}
        for value in outputs.values():
            if "Condition" in value and not self.lazy_condition_map[value["Condition"]]:
                continue
            value = value.get("Value", {})
            if not isinstance(value, dict) or "Fn::GetAtt" not in value:
                continue
            target = value["Fn::GetAtt"]
            name, attr = (
                (target.split(".", 1) + [""])[:2]
                if isinstance(target, str)
                else (list(target) + ["", ""])[:2]
            )
            resource = self._resource_json_map.get(name)
            if resource is None:
                raise ValidationError(
                    message=f"Template error: instance of Fn::GetAtt references undefined "
                    f"resource {name}"
                )
            if "Condition" in resource and not self.lazy_condition_map[resource["Condition"]]:
                raise ValidationError(
                    message=f"Unresolved resource dependencies [{name}] in the Outputs block "
                    "of the template"
                )
            type_name = resource["Type"]
            known = type_name.startswith("Custom::") or type_name in parsing.get_model_map()
            model = parsing.resource_class_from_type(type_name) if known else None
            if model is not None:
                ok = model.has_cfn_attr(attr)
            else:
                schema = stubs.schema(type_name, self._region_name)
                ok = schema is None or _schema_has(schema, str(attr))
            if not ok:
                raise UnsupportedAttribute(resource=type_name.rsplit(":", 1)[-1], attr=attr)

    parsing.ResourceMap.validate_outputs = _mark(validate_outputs, original)  # type: ignore[method-assign]


def _schema_has(schema: dict[str, Any], attr: str) -> bool:
    read_only = {
        ".".join(p for p in pointer.split("/")[2:] if p != "*")
        for pointer in schema.get("readOnlyProperties") or []
    }
    return attr in read_only or attr.split(".")[0] in (schema.get("properties") or {})


def fix_empty_change_set() -> None:
    """A change set with no changes is created with Status FAILED and CloudFormation's reason.

    moto 5.2.5 ``CloudFormationResponse.create_change_set`` calls
    ``_validate_different_update``, which raises ``ValidationError "No updates are to be
    performed."`` for an UPDATE change set with the stack's own template and parameters (that
    check belongs to UpdateStack). CloudFormation creates the change set with Status FAILED and
    the reason "The submitted information didn't contain changes. Submit different information
    to create a change set.", which ``aws cloudformation deploy --no-fail-on-empty-changeset``
    looks for. Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_cfn_changesets.py::test_an_empty_change_set_fails_with_cloudformations_reason``.
    """
    from moto.cloudformation.responses import CloudFormationResponse

    original = CloudFormationResponse.create_change_set
    if getattr(original, "motobox_original", None):
        return

    def create_change_set(self: Any) -> Any:
        self._validate_different_update = lambda *args, **kwargs: None
        try:
            return original(self)
        finally:
            del self._validate_different_update

    CloudFormationResponse.create_change_set = _mark(create_change_set, original)  # type: ignore[method-assign]


def _change_set_not_found(name: str) -> Exception:
    """moto's error for the model's ``ChangeSetNotFoundException`` (code ChangeSetNotFound,
    HTTP 404: moto's serializer reads both from the model)."""
    from moto.cloudformation.exceptions import CloudFormationError

    return CloudFormationError("ChangeSetNotFoundException", f"ChangeSet [{name}] does not exist")


def fix_missing_change_set() -> None:
    """A change set that does not exist is ``ChangeSetNotFound`` (404) to DescribeChangeSet,
    and deleting it succeeds.

    moto 5.2.5 ``CloudFormationBackend.describe_change_set`` raises ``ValidationError "Stack
    with id NAME does not exist"`` and ``delete_change_set`` an ``UnboundLocalError`` (a 500,
    which SDKs retry) for a name it does not hold. CloudFormation answers
    ``ChangeSetNotFoundException`` and deletes a missing change set of an existing stack
    without complaint. AWS CDK relies on both: ``cdk deploy`` and ``cdk diff`` delete the
    change set of their previous run, then wait until DescribeChangeSet says
    ChangeSetNotFound, so a second ``cdk deploy`` failed with "Stack with id
    cdk-deploy-change-set does not exist" and ``cdk diff`` could not make its change set.
    Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_cfn_changesets.py::test_a_missing_change_set_is_not_found_and_deletes_quietly``.
    """
    from moto.cloudformation.models import CloudFormationBackend

    describe = CloudFormationBackend.describe_change_set
    if getattr(describe, "motobox_original", None):
        return
    delete = CloudFormationBackend.delete_change_set

    def held(self: Any, name: str) -> bool:
        return name in self.change_sets or any(
            cs.change_set_name == name for cs in self.change_sets.values()
        )

    def describe_change_set(self: Any, change_set_name: str) -> Any:
        if not held(self, change_set_name):
            raise _change_set_not_found(change_set_name)
        return describe(self, change_set_name)

    def delete_change_set(self: Any, change_set_name: str) -> None:
        if held(self, change_set_name):
            delete(self, change_set_name)

    CloudFormationBackend.describe_change_set = _mark(describe_change_set, describe)  # type: ignore[method-assign]
    CloudFormationBackend.delete_change_set = _mark(delete_change_set, delete)  # type: ignore[method-assign]


def fix_ssm_parameter_previous_value() -> None:
    """``UsePreviousValue`` for a parameter of type ``AWS::SSM::Parameter::Value<...>`` reuses
    the parameter's name, which CloudFormation resolves again.

    moto 5.2.5 ``Stack.stack_parameters`` (what CreateChangeSet and UpdateStack read for
    ``UsePreviousValue``) holds the values the names resolved to, so the update looks up an
    SSM parameter named after the value ("30") and fails with ``AttributeError: 'NoneType'
    object has no attribute 'value'``. Every CDK stack has such a parameter
    (``BootstrapVersion``, default ``/cdk-bootstrap/hnb659fds/version``) and every
    ``cdk deploy`` after the first passes it with ``UsePreviousValue``: the second deploy
    ended UPDATE_FAILED. Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_cfn_changesets.py::test_an_ssm_parameter_keeps_its_name_for_use_previous_value``.
    """
    from moto.cloudformation.models import Stack

    original: Any = Stack.__dict__["stack_parameters"]  # the property
    if getattr(original.fget, "motobox_original", None):
        return

    def stack_parameters(self: Any) -> dict[str, Any]:
        values = dict(original.fget(self))
        declared = (getattr(self, "template_dict", None) or {}).get("Parameters") or {}
        given = getattr(self.resource_map, "input_parameters", None) or {}
        for key, slot in declared.items():
            kind = str(slot.get("Type", "")) if isinstance(slot, dict) else ""
            if key in values and kind.startswith("AWS::SSM::Parameter::Value<"):
                values[key] = given.get(key, slot.get("Default"))
        return values

    Stack.stack_parameters = property(_mark(stack_parameters, original.fget))  # type: ignore[assignment]


def fix_stack_engine() -> None:
    """Stacks are made, updated and deleted by the engine (``engine`` module docstring)."""
    from moto.cloudformation import parsing
    from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack
    from moto.cloudformation.responses import CloudFormationResponse

    from motobox.emulation.cloudformation import changesets, engine, template

    if getattr(CloudFormationBackend.create_stack, "motobox_original", None):
        return
    engine._ORIGINAL_OUTPUTS = Stack.outputs.fget  # type: ignore[attr-defined]
    engine._ORIGINAL_EXPORTS = Stack.exports.fget  # type: ignore[attr-defined]
    engine._ORIGINAL_DELETE_STACK = CloudFormationBackend.delete_stack
    engine._ORIGINAL_UPDATE_STACK = CloudFormationBackend.update_stack

    def create_stack(self: Any, *args: Any, **kwargs: Any) -> Any:
        return engine.create_stack(self, *args, **kwargs)

    CloudFormationBackend.create_stack = _mark(  # type: ignore[method-assign]
        create_stack, CloudFormationBackend.create_stack
    )
    CloudFormationBackend.delete_stack = (  # type: ignore[method-assign]
        lambda self, name_or_stack_id: engine.delete_stack(self, name_or_stack_id)
    )
    CloudFormationBackend.update_stack = (  # type: ignore[method-assign]
        lambda self, *args, **kwargs: engine.update_stack(self, *args, **kwargs)
    )
    CloudFormationBackend.execute_change_set = (  # type: ignore[method-assign]
        lambda self, change_set_name, stack_name=None: changesets.execute(
            self, change_set_name, stack_name
        )
    )
    original_create_change_set = CloudFormationBackend.create_change_set

    def create_change_set(self: Any, *args: Any, **kwargs: Any) -> Any:
        change_set_id, stack_id = original_create_change_set(self, *args, **kwargs)
        changesets.settle(self, change_set_id)
        return change_set_id, stack_id

    CloudFormationBackend.create_change_set = create_change_set  # type: ignore[method-assign]
    ChangeSet.diff = lambda self: []  # type: ignore[method-assign]  # settle() sets the changes

    def with_options(method: Any) -> Any:
        def call(self: Any) -> Any:
            engine.creation_options(
                self._get_param("OnFailure"), self._get_bool_param("DisableRollback", False)
            )
            return method(self)

        return call

    for name in ("create_stack", "update_stack", "execute_change_set"):
        setattr(CloudFormationResponse, name, with_options(getattr(CloudFormationResponse, name)))

    original_getitem = parsing.ResourceMap.__getitem__

    def getitem(self: Any, key: str) -> Any:
        run = getattr(self, "motobox", None)
        if run is None or key in self._parsed_resources:
            return original_getitem(self, key)
        if key not in self._resource_json_map:
            raise KeyError(key)
        if run.creating_here() and run.resource_map is self and key not in run.made:
            # A dependency the order did not see: made now, with its events.
            run._create_one(key)
        return self._parsed_resources.get(key)

    parsing.ResourceMap.__getitem__ = getitem  # type: ignore[method-assign]

    original_parse_resource = parsing.parse_resource

    def parse_resource(resource_json: Any, resources_map: Any) -> Any:
        result = original_parse_resource(resource_json, resources_map)
        if result and getattr(resources_map, "motobox", None) is not None:
            model, cleaned, type_name = result
            cleaned = template.resolve_dynamic(
                cleaned, resources_map._account_id, resources_map._region_name
            )
            return model, cleaned, type_name
        return result

    parsing.parse_resource = parse_resource

    def stack_resources(self: Any) -> Any:
        run = engine.run_of(self)
        if run is None:
            return self.resource_map.values()
        return list(run.made.values())

    Stack.stack_resources = property(stack_resources)  # type: ignore[assignment,method-assign]

    def outputs(self: Any) -> Any:
        run = engine.run_of(self)
        if run is None:
            return engine._ORIGINAL_OUTPUTS(self) if engine._ORIGINAL_OUTPUTS else None
        return run.outputs

    Stack.outputs = property(outputs)  # type: ignore[assignment,method-assign]

    def exports(self: Any) -> Any:
        run = engine.run_of(self)
        if run is None:
            return engine._ORIGINAL_EXPORTS(self) if engine._ORIGINAL_EXPORTS else []
        return list(run.exports)

    Stack.exports = property(exports)  # type: ignore[assignment,method-assign]
