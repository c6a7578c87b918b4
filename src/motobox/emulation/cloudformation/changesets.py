"""Change sets as CloudFormation makes them (what CDK, SAM and ``aws cloudformation deploy``
use).

    CreateChangeSet -> the processed template (SAM expanded) -> the changes against the stack
                       as made (``engine.diff``: a parameter-only change included), each with
                       ``Replacement`` from the provider schema's ``createOnlyProperties``
                    -> nothing to change: Status FAILED, StatusReason "The submitted
                       information didn't contain changes. ..." (``aws cloudformation deploy
                       --no-fail-on-empty-changeset`` reads exactly that)
    ExecuteChangeSet -> the engine: CREATE builds the stack (outputs included), UPDATE
                       applies the changes to the resources; ExecutionStatus follows
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from motobox.emulation.cloudformation import engine, stubs

EMPTY_REASON = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)


class ResourceChange:
    """One entry of DescribeChangeSet's ``Changes`` (moto's serializer reads the
    snake_case attributes)."""

    def __init__(
        self,
        action: str,
        logical_id: str,
        type_name: str,
        physical_id: str | None = None,
        replacement: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.action = action
        self.logical_resource_id = logical_id
        self.resource_type = type_name
        self.physical_resource_id = physical_id
        self.replacement = replacement
        self.scope = ["Properties"] if action == "Modify" else []
        self.details = details or []


def changes_of(change_set: Any) -> list[ResourceChange]:
    """The changes ``change_set`` would make to its stack."""
    stack = change_set.stack
    new_template = change_set.template_dict or {}
    new_resources = new_template.get("Resources") or {}
    old_resources = (getattr(stack, "template_dict", None) or {}).get("Resources") or {}
    run = engine.run_of(stack)
    if run is None:
        actions = {name: "Add" for name in new_resources}
    else:
        actions = engine.diff(run, new_template, change_set.parameters or {})
    out = []
    for logical_id, action in actions.items():
        resource = new_resources.get(logical_id) or old_resources.get(logical_id) or {}
        type_name = str(resource.get("Type", ""))
        made = run.made.get(logical_id) if run is not None else None
        physical = engine._physical_id(made) if made is not None else None
        replacement: str | None = None
        details: list[dict[str, Any]] = []
        if action == "Modify":
            replacement, details = _modification(
                old_resources.get(logical_id) or {}, resource, run, change_set, stack.region_name
            )
        out.append(
            ResourceChange(action, logical_id, type_name, physical or None, replacement, details)
        )
    return out


def _modification(
    old: Mapping[str, Any], new: Mapping[str, Any], run: Any, change_set: Any, region: str
) -> tuple[str, list[dict[str, Any]]]:
    """``Replacement`` and ``Details`` of a modified resource: which top-level properties
    changed (or which changed parameter they refer to), and whether the provider schema
    makes any of them create-only."""
    from motobox.emulation.cloudformation import template

    schema = stubs.schema(str(new.get("Type", "")), region) or {}
    create_only = {
        p.split("/")[2] for p in schema.get("createOnlyProperties") or [] if p.count("/") >= 2
    }
    old_props = old.get("Properties") or {}
    new_props = new.get("Properties") or {}
    details: list[dict[str, Any]] = []
    for name in sorted(set(old_props) | set(new_props)):
        if old_props.get(name) != new_props.get(name):
            details.append(_detail(name, name in create_only, "DirectModification"))
    if not details and run is not None:
        old_values = dict(getattr(run.resource_map, "resolved_parameters", {}) or {})
        new_values = dict(change_set.parameters or {})
        for name, value in new_props.items():
            for ref, _ in template.references(value):
                if ref in new_values and old_values.get(ref) != new_values.get(ref):
                    detail = _detail(name, name in create_only, "ParameterReference")
                    detail["CausingEntity"] = ref
                    details.append(detail)
    if any(d["Target"]["RequiresRecreation"] == "Always" for d in details):
        return "True", details
    return "False", details


def _detail(name: str, create_only: bool, source: str) -> dict[str, Any]:
    return {
        "Target": {
            "Attribute": "Properties",
            "Name": name,
            "RequiresRecreation": "Always" if create_only else "Never",
        },
        "Evaluation": "Static",
        "ChangeSource": source,
    }


def settle(backend: Any, change_set_id: str) -> None:
    """After moto made the change set: its changes and status as CloudFormation's."""
    change_set = backend.change_sets[change_set_id]
    change_set.changes = changes_of(change_set)
    stack = change_set.stack
    same = (
        change_set.change_set_type == "UPDATE"
        and not change_set.changes
        and engine_template(stack) == change_set.template_dict
        and dict(stack.parameters or {}) == dict(change_set.parameters or {})
    )
    if same:
        change_set.status = "FAILED"
        change_set.execution_status = "UNAVAILABLE"
        change_set.status_reason = EMPTY_REASON
    else:
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"
        change_set.status_reason = None


def engine_template(stack: Any) -> dict[str, Any]:
    return dict(getattr(stack, "template_dict", None) or {})


def execute(backend: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """``CloudFormationBackend.execute_change_set`` through the engine."""
    from moto.cloudformation.exceptions import ValidationError

    change_set = None
    if change_set_name in backend.change_sets:
        change_set = backend.change_sets[change_set_name]
    else:
        for candidate in backend.change_sets.values():
            if candidate.change_set_name == change_set_name and (
                stack_name is None
                or candidate.stack_name == stack_name
                or candidate.stack_id == stack_name
            ):
                change_set = candidate
    if change_set is None:
        raise ValidationError(message=f"ChangeSet [{change_set_name}] does not exist")
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
            f"execution status of [{change_set.execution_status}]"
        )
    stack = backend.stacks[change_set.stack_id]
    processed = change_set.template_dict
    on_failure = engine._take_on_failure()
    change_set.execution_status = "EXECUTE_IN_PROGRESS"

    def finished() -> None:
        ok = str(stack.status) in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        change_set.execution_status = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"

    if change_set.change_set_type == "CREATE":
        stack.template = change_set.template
        stack.parameters = dict(change_set.parameters or {})
        stack.template_dict = processed
        # moto's create_change_set made the stack without the region's exports (its
        # cross_stack_resources is {}): Fn::ImportValue found none. Read them now, as
        # create_stack does.
        stack.cross_stack_resources = backend.exports
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
        stack.description = processed.get("Description")
        run = engine.StackRun(backend, stack, on_failure=on_failure)
        run._begin("create", "CREATE_IN_PROGRESS")

        def create() -> None:
            try:
                run.create()
            finally:
                finished()

        run.start(create, wait=engine.BUDGET)
        return
    existing = engine.run_of(stack)
    if existing is None:  # a stack the engine did not make: moto's own way
        change_set.apply()
        stack.status = "UPDATE_COMPLETE"
        change_set.execution_status = "EXECUTE_COMPLETE"
        return
    if on_failure == "DO_NOTHING":
        existing.on_failure = on_failure
    existing._begin("update", "UPDATE_IN_PROGRESS")

    def update() -> None:
        try:
            existing.update(
                processed, dict(change_set.parameters or {}), change_set.template, begun=True
            )
        finally:
            finished()

    existing.start(update, wait=engine.BUDGET)
