"""Stack resources report the status motobox gave them (moto 5.2.5)."""

from __future__ import annotations

from typing import Any


def fix_stack_resource_status() -> None:
    """Stack resources report the status motobox gave them (``fail_stack``).

    moto 5.2.5 answers ``ListStackResources`` with ``ResourceStatus: CREATE_COMPLETE``
    hard-coded ("FIXME: This was migrated from the original XML template") and
    ``DescribeStackResources`` with the stack's status for every resource. A forced stack
    failure marks the failed resource (``motobox_status``, ``motobox_status_reason``); these
    answers now read it, so every CloudFormation read tells the same story.
    """
    from moto.cloudformation import responses

    def status_of(resource: Any, default: str) -> str:
        return str(getattr(resource, "motobox_status", None) or default)

    original_dto_init = responses.StackResourceDTO.__init__

    def dto_init(self: Any, stack: Any, resource: Any) -> None:
        original_dto_init(self, stack, resource)
        self.resource_status = status_of(resource, stack.status)
        reason = getattr(resource, "motobox_status_reason", None)
        if reason:
            self.resource_status_reason = reason

    responses.StackResourceDTO.__init__ = dto_init  # type: ignore[method-assign]

    original_list = responses.CloudFormationResponse.list_stack_resources

    def list_stack_resources(self: Any) -> Any:
        result = original_list(self)
        stack, resources = self.cloudformation_backend.list_stack_resources(
            self._get_param("StackName")
        )
        by_id = {getattr(r, "logical_resource_id", None): r for r in resources}
        for summary in result.result["StackResourceSummaries"]:  # type: ignore[index]
            resource = by_id.get(summary["LogicalResourceId"])
            default = "CREATE_COMPLETE" if stack.status != "CREATE_FAILED" else stack.status
            summary["ResourceStatus"] = status_of(resource, default)
            reason = getattr(resource, "motobox_status_reason", None)
            if reason:
                summary["ResourceStatusReason"] = reason
        return result

    responses.CloudFormationResponse.list_stack_resources = list_stack_resources  # type: ignore[method-assign]
