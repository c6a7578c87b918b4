"""Forced stack failures: a change of moto's CloudFormation state that every read agrees with."""

from __future__ import annotations


def fail_stack(
    account: str, region: str, stack_name: str, reason: str, resource: str | None
) -> None:
    """Turn the stack moto just created into a CREATE_FAILED one, in moto's own state.

    The stack's status and reason change, the named resource (or the first one) is marked
    CREATE_FAILED with ``reason``, and the events say what CloudFormation would say. Later
    reads (DescribeStacks, DescribeStackEvents, DescribeStackResources, ListStackResources)
    and the deletion all read this state, so they agree with each other.
    """
    from moto.cloudformation.models import Event, cloudformation_backends

    # {account} and {region} in the reason name the stack's own (an ARN in a reason, as AWS
    # writes them); other braces stay as written.
    reason = reason.replace("{account}", account).replace("{region}", region)
    from motobox.emulation.cloudformation import engine

    backend = cloudformation_backends[account][region]
    stack = backend.get_stack(stack_name)
    engine.wait_for(stack)  # the engine's creation is over before its end is rewritten
    resources = list(stack.resource_map.values()) if stack.resource_map else []
    logical_ids = list(stack.template_dict.get("Resources", {}))
    failed_id = resource or (logical_ids[0] if logical_ids else stack.name)
    failed_type = (
        stack.template_dict.get("Resources", {})
        .get(failed_id, {})
        .get("Type", "AWS::CloudFormation::Stack")
    )
    for res in resources:
        if getattr(res, "logical_resource_id", None) == failed_id:
            res.motobox_status = "CREATE_FAILED"
            res.motobox_status_reason = reason
    # Replace moto's closing CREATE_COMPLETE event with what a failed creation writes.
    stack.events = [e for e in stack.events if e.resource_status != "CREATE_COMPLETE"]
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=failed_id,
            physical_resource_id="",
            resource_type=failed_type,
            resource_status="CREATE_FAILED",
            resource_status_reason=reason,
            resource_properties=None,
        )
    )
    stack_reason = f"The following resource(s) failed to create: [{failed_id}]. "
    stack._add_stack_event("CREATE_FAILED", resource_status_reason=stack_reason)
    stack.status = "CREATE_FAILED"
    stack.stack_status_reason = stack_reason  # type: ignore[attr-defined]
    run = engine.run_of(stack)
    if run is not None:
        run.outputs = None
        run._finish("CREATE_FAILED", stack_reason)
