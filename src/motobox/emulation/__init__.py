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

import threading
from collections.abc import Callable

from motobox.emulation import core, ec2, iam, lambdas, s3
from motobox.emulation.cloudformation import fixes as cfn
from motobox.emulation.cloudformation import status, template_url

#: Fixes by the moto service they patch ("core": every service).
FIXES: dict[str, tuple[Callable[[], None], ...]] = {
    "core": (
        core.fix_method_names_per_request,
        core.fix_service_model_loader,
        core.fix_random_strings,
        ec2.fix_availability_zones,  # armed for any service: many read EC2's zone table
        iam.fix_aws_managed_policies,  # before any service makes an account's IAM backend
    ),
    "s3": (s3.fix_bucket_policy_conditions,),
    "cloudformation": (
        cfn.fix_novalue_in_lists,
        cfn.fix_yaml_dates,
        cfn.fix_getatt_unmodelled,
        cfn.fix_network_deletion,
        cfn.fix_ingress_prefix_list,
        cfn.fix_security_group_rules,
        cfn.fix_managed_policy_arns,
        cfn.fix_ssm_parameter,
        cfn.fix_apigateway_method,
        cfn.fix_lambda_permission_deletion,
        cfn.fix_rest_api_body,
        cfn.fix_state_machine_properties,
        cfn.fix_kms_key,
        cfn.fix_secrets_manager_secret,
        cfn.fix_efs_attributes,
        cfn.fix_listener_forward_config,
        cfn.fix_load_balancer_type,
        cfn.fix_load_balancer_attributes,
        cfn.fix_empty_change_set,
        cfn.fix_change_set_type,
        cfn.fix_missing_change_set,
        cfn.fix_ssm_parameter_previous_value,
        cfn.fix_validate_template,
        cfn.fix_s3_bucket_properties,
        cfn.fix_stack_engine,
        status.fix_stack_resource_status,
        template_url.fix_template_url_bucket,
        lambdas.fix_lambda_execution,
        lambdas.fix_runtime_lifecycle,
        lambdas.fix_missing_code_object,
        ec2.fix_get_azs,
    ),
    "lambda": (
        lambdas.fix_lambda_execution,
        lambdas.fix_runtime_lifecycle,
        lambdas.fix_missing_code_object,
    ),
    "events": (lambdas.fix_lambda_execution, lambdas.fix_runtime_lifecycle),
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
                    fix()
                _done.add(name)
