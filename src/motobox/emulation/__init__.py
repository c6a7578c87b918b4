"""What motobox emulates beyond moto, and the fixes of moto behaviour it needs.

    apply(service)          the fixes of ``service`` (and the core ones), once per process,
                            when the gateway first hands that service a call
    context.request_context the request moto is answering in this thread, for fixes that
                            need it (a bucket policy's ``s3:signatureversion``)
    cloudformation          the stack engine in place of moto's stack life cycle (events
                            in dependency order, failures that fail the stack, stubs for
                            what moto does not model, custom resources, change sets), the
                            fixes of moto's CloudFormation bugs, forced failures
                            (``fail_stack``) and the fixes that make every read agree
    lambdas                 Lambda functions run on this machine's Python and Node.js, not
                            Docker, and runtimes AWS no longer accepts are refused (also
                            applied with CloudFormation, which creates functions)
    ec2                     Availability Zones as AWS lists them, and Fn::GetAZs agreeing

Each fix is a small function whose docstring names the moto behaviour it corrects (moto is
pinned to 5.2.5 in pyproject.toml), the upstream state, and the test in
``tests/test_moto_fixes.py`` that fails without it. A fix is applied when its service is first
called, so motobox does not import moto's CloudFormation (0.8 s) for a program that never
uses it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable

#: Fixes by the moto service they patch ("core": every service), as ``module.function`` under
#: ``motobox.emulation``: a module is imported when its fix is applied (the Lambda and
#: CloudFormation ones are ~5 ms of start-up a cloud that never uses them would pay).
FIXES: dict[str, tuple[str, ...]] = {
    "core": (
        "core.fix_method_names_per_request",
        "core.fix_service_model_loader",
        "core.fix_random_strings",
        "ec2.fix_availability_zones",  # armed for any service: many read EC2's zone table
        "iam.fix_aws_managed_policies",  # before any service makes an account's IAM backend
    ),
    "s3": ("s3.fix_bucket_policy_conditions",),
    "cloudformation": (
        "cloudformation.fixes.fix_novalue_in_lists",
        "cloudformation.fixes.fix_yaml_dates",
        "cloudformation.fixes.fix_getatt_unmodelled",
        "cloudformation.fixes.fix_network_deletion",
        "cloudformation.fixes.fix_ingress_prefix_list",
        "cloudformation.fixes.fix_security_group_rules",
        "cloudformation.fixes.fix_managed_policy_arns",
        "cloudformation.fixes.fix_ssm_parameter",
        "cloudformation.fixes.fix_apigateway_method",
        "cloudformation.fixes.fix_lambda_permission_deletion",
        "cloudformation.fixes.fix_rest_api_body",
        "cloudformation.fixes.fix_state_machine_properties",
        "cloudformation.fixes.fix_kms_key",
        "cloudformation.fixes.fix_secrets_manager_secret",
        "cloudformation.fixes.fix_efs_attributes",
        "cloudformation.fixes.fix_listener_forward_config",
        "cloudformation.fixes.fix_load_balancer_type",
        "cloudformation.fixes.fix_load_balancer_attributes",
        "cloudformation.fixes.fix_empty_change_set",
        "cloudformation.fixes.fix_change_set_type",
        "cloudformation.fixes.fix_missing_change_set",
        "cloudformation.fixes.fix_ssm_parameter_previous_value",
        "cloudformation.fixes.fix_validate_template",
        "cloudformation.fixes.fix_s3_bucket_properties",
        "cloudformation.fixes.fix_stack_engine",
        "cloudformation.status.fix_stack_resource_status",
        "cloudformation.template_url.fix_template_url_bucket",
        "lambdas.fix_lambda_execution",
        "lambdas.fix_runtime_lifecycle",
        "lambdas.fix_missing_code_object",
        "ec2.fix_get_azs",
    ),
    "lambda": (
        "lambdas.fix_lambda_execution",
        "lambdas.fix_runtime_lifecycle",
        "lambdas.fix_missing_code_object",
    ),
    "events": ("lambdas.fix_lambda_execution", "lambdas.fix_runtime_lifecycle"),
}
_lock = threading.Lock()
_done: set[str] = set()


def apply(service: str | None = None) -> None:
    """Apply the fixes for ``service`` (every fix when None; only those every service needs
    when "core") and the core ones once; thread-safe."""
    if "core" in _done and (service in _done or (service is not None and service not in FIXES)):
        return
    with _lock:
        for name, fixes in FIXES.items():
            wanted = service is None or name in (service, "core")
            if wanted and name not in _done:
                for fix in fixes:
                    _resolve(fix)()
                _done.add(name)


def _resolve(path: str) -> Callable[[], None]:
    module, _, name = path.rpartition(".")
    fix: Callable[[], None] = getattr(importlib.import_module(f"motobox.emulation.{module}"), name)
    return fix
