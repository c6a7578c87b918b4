"""Fixes of moto's CloudFormation (moto 5.2.5), applied when the gateway first hands a call to
moto's CloudFormation (``emulation.FIXES["cloudformation"]``).

Sixteen are bugs that real templates hit; each test in ``tests/test_cfn_moto_fixes.py`` also
runs moto's own function (kept as ``motobox_original`` on the fix) or looks at moto's own model
and asserts the bug is still there, so the fix is dropped when moto mends it:

    fix_novalue_in_lists      ``!If [cond, value, !Ref AWS::NoValue]`` inside a list
    fix_yaml_dates            an unquoted ``Version: 2012-10-17`` read as a date
    fix_getatt_unmodelled     ``Fn::GetAtt`` in Outputs on a type moto does not model (and on
                              ``AWS::CloudFormation::CustomResource``)
    fix_network_deletion      route tables, gateways, addresses... that DeleteStack left behind,
                              so the VPC after them failed to delete
    fix_ingress_prefix_list   an ingress rule whose source is ``SourcePrefixListId``
    fix_ssm_parameter         an ``AWS::SSM::Parameter`` without ``Name``, ``!GetAtt P.Value``
    fix_rest_api_body         an ``AWS::ApiGateway::RestApi`` made from its OpenAPI ``Body``
                              (SAM's implicit API), not left empty or failed on ``Name``
    fix_security_group_rules  inline rules without ports (``IpProtocol: -1``), IPv6, prefix
                              lists, descriptions and ``SecurityGroupEgress``
    fix_managed_policy_arns   a role's or user's ``ManagedPolicyArns`` attached, and an
                              ``AWS::IAM::ManagedPolicy`` detached and deleted with its stack
    fix_state_machine_properties  ``Definition``, ``DefinitionS3Location``,
                              ``DefinitionSubstitutions``, type, logging and tracing of a state
                              machine (moto made each one STANDARD with the definition "")
    fix_kms_key               a key policy stored as JSON (DescribeKey answered 500), optional,
                              and ``KeySpec``/``KeyUsage``/``Enabled``/``MultiRegion``
    fix_secrets_manager_secret  ``AWS::SecretsManager::Secret`` made in moto's Secrets Manager
                              (was a stub whose ``Ref`` was not the ARN)
    fix_efs_attributes        ``Fn::GetAtt`` on EFS file systems, access points, mount targets
    fix_listener_forward_config  a listener's forward action in ``ForwardConfig``
    fix_load_balancer_type    a load balancer's ``Type`` (network), mappings, tags, attributes
    fix_load_balancer_attributes  ``TargetGroupFullName``, ``LoadBalancerFullName``...

The others put the stack engine (``engine``, ``changesets``) in place of moto's own stack
life cycle; ``fix_empty_change_set`` and ``fix_change_set_type`` are the bugs change sets
meet.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _mark(fixed: Any, original: Any) -> Any:
    fixed.motobox_original = original
    return fixed


@dataclass
class Hook:
    """One call of a moto model's CloudFormation hook (``create_from_cloudformation_json``,
    ``delete_from_cloudformation_json``), as a fix that replaces the hook receives it."""

    cls: Any
    original: Any  # moto's own hook, bound to the model
    name: str  # the resource's name (moto's ``resource_name``)
    spec: Any  # the resource's template entry, its properties resolved
    account: str
    region: str
    kwargs: dict[str, Any]

    @property
    def properties(self) -> Any:
        return self.spec.get("Properties") or {}

    def proceed(self) -> Any:
        """What moto's own hook does with this call."""
        return self.original(self.name, self.spec, self.account, self.region, **self.kwargs)


def _replaces(
    model: Any, hook: str = "create_from_cloudformation_json"
) -> Callable[[Callable[[Hook], Any]], Callable[[Hook], Any]]:
    """The decorated function takes the place of ``model``'s classmethod ``hook`` (once: a hook
    already replaced is left as it is); moto's own stays reachable as ``motobox_original``."""

    def install(fix: Callable[[Hook], Any]) -> Callable[[Hook], Any]:
        original = getattr(model, hook)
        if getattr(original, "motobox_original", None) is not None:
            return fix

        def replaced(
            cls: Any, name: str, spec: Any, account: str, region: str, **kwargs: Any
        ) -> Any:
            return fix(Hook(cls, original, name, spec, account, region, kwargs))

        setattr(model, hook, classmethod(_mark(replaced, original)))
        return fix

    return install


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
    ``AWS::CloudFormation::CustomResource`` takes any attribute, as ``Custom::*`` does (its
    schema lists only ``Id``; quickstart-aws-acm-certificate reads ``.Arn``).
    Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Tests: ``test_cfn_moto_fixes.py::test_getatt_on_an_unmodelled_type_in_outputs``,
    ``::test_getatt_on_a_custom_resource_of_the_long_type_name_in_outputs``.
    """
    from moto.cloudformation import parsing
    from moto.cloudformation.exceptions import UnsupportedAttribute, ValidationError

    from motobox.emulation.cloudformation import stubs
    from motobox.emulation.cloudformation.engine import CUSTOM

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
            if type_name == CUSTOM:
                ok = True  # any attribute of the function's Data, as for Custom::*
            elif model is not None:
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


def fix_network_deletion() -> None:
    """Deleting a stack deletes the network resources it made.

    moto 5.2.5 gives ``AWS::EC2::RouteTable``, ``Route``, ``SubnetRouteTableAssociation``,
    ``InternetGateway``, ``VPCGatewayAttachment``, ``NatGateway``, ``EIP``,
    ``SecurityGroupIngress``, ``VPCEndpoint``, ``VPNGateway`` and ``FlowLog`` neither a
    ``delete`` nor a ``delete_from_cloudformation_json``, so ``ResourceMap._delete_resource``
    does nothing for them: each got ``DELETE_COMPLETE`` and stayed, and the VPC after them failed
    with "The vpc vpc-... has dependencies and cannot be deleted" (moto counts the route tables
    left in it). Every stack of quickstart-aws-vpc ended ``DELETE_FAILED``, and so does any
    stack with a VPC and a route table under plain moto. Each model here gets the ``delete``
    that ``_delete_resource`` calls first, made of moto's own EC2 backend calls; the engine
    deletes in reverse dependency order, so an association goes before its route table and an
    attachment before its gateway. Upstream: not reported to moto as of 5.2.5 (searched
    2026-11). Test: ``test_cfn_moto_fixes.py::test_deleting_a_stack_deletes_its_network``.
    """
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.elastic_ip_addresses import ElasticAddress
    from moto.ec2.models.flow_logs import FlowLogs
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.nat_gateways import NatGateway
    from moto.ec2.models.route_tables import Route, RouteTable
    from moto.ec2.models.security_groups import SecurityGroupIngress
    from moto.ec2.models.subnets import SubnetRouteTableAssociation
    from moto.ec2.models.vpcs import VPCEndPoint
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment, VpnGateway

    def route(self: Any, ec2: Any) -> None:
        prefix_list = getattr(self, "destination_prefix_list", None)
        ec2.delete_route(
            self.route_table.id,
            self.destination_cidr_block,
            self.destination_ipv6_cidr_block,
            prefix_list.id if prefix_list is not None else None,
        )

    def attachment(self: Any, ec2: Any) -> None:
        if str(self.gateway_id).startswith("vgw-"):
            ec2.detach_vpn_gateway(self.gateway_id, self.vpc_id)
        else:
            ec2.detach_internet_gateway(self.gateway_id, self.vpc_id)

    def address(self: Any, ec2: Any) -> None:
        if self.allocation_id:
            ec2.release_address(allocation_id=self.allocation_id)
        else:
            ec2.release_address(address=self.public_ip)

    def ingress(self: Any, ec2: Any) -> None:
        # the same rule moto's create_from_cloudformation_json authorized
        properties = self.properties
        source = {
            key: properties[name]
            for key, name in (
                ("GroupId", "SourceSecurityGroupId"),
                ("GroupName", "SourceSecurityGroupName"),
            )
            if properties.get(name)
        }
        cidr = properties.get("CidrIp")
        ec2.revoke_security_group_ingress(
            group_name_or_id=self.security_group.id,
            ip_protocol=properties.get("IpProtocol"),
            from_port=properties.get("FromPort"),
            to_port=properties.get("ToPort"),
            ip_ranges=[{"CidrIp": cidr, "Description": properties.get("Description")}]
            if cidr
            else [],
            source_groups=[source] if source else [],
            prefix_list_ids=[{"PrefixListId": properties["SourcePrefixListId"]}]
            if properties.get("SourcePrefixListId")
            else None,
        )

    deletions: dict[type, Any] = {
        RouteTable: lambda self, ec2: ec2.delete_route_table(self.id),
        Route: route,
        SubnetRouteTableAssociation: lambda self, ec2: ec2.subnet_associations.pop(
            f"{self.route_table_id}:{self.subnet_id}", None
        ),
        InternetGateway: lambda self, ec2: ec2.delete_internet_gateway(self.id),
        VPCGatewayAttachment: attachment,
        NatGateway: lambda self, ec2: ec2.delete_nat_gateway(self.id),
        ElasticAddress: address,
        SecurityGroupIngress: ingress,
        VPCEndPoint: lambda self, ec2: ec2.delete_vpc_endpoints([self.id]),
        VpnGateway: lambda self, ec2: ec2.delete_vpn_gateway(self.id),
        FlowLogs: lambda self, ec2: ec2.delete_flow_logs([self.id]),
    }
    for model, deletion in deletions.items():
        if "delete" in vars(model):
            continue  # applied already, or moto has its own

        def delete(self: Any, account_id: str, region_name: str, _deletion: Any = deletion) -> None:
            _deletion(self, ec2_backends[account_id][region_name])

        model.delete = _mark(delete, None)  # type: ignore[attr-defined]


def fix_ingress_prefix_list() -> None:
    """An ``AWS::EC2::SecurityGroupIngress`` may take its source from ``SourcePrefixListId``.

    moto 5.2.5 ``SecurityGroupIngress.create_from_cloudformation_json`` asserts that a CIDR or
    a source group is given, so a rule whose only source is a prefix list fails with an
    ``AssertionError`` that has no message (quickstart-linux-bastion's ``prefix-list-access``
    test). Such a rule is authorized here with moto's own call, its prefix list as the
    source. Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_cfn_moto_fixes.py::test_an_ingress_rule_from_a_prefix_list``.
    """
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroupIngress

    sources = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourceSecurityGroupName")

    @_replaces(SecurityGroupIngress)
    def create(call: Hook) -> Any:
        properties = call.properties
        prefix_list = properties.get("SourcePrefixListId")
        if not prefix_list or any(properties.get(name) for name in sources):
            return call.proceed()
        ec2 = ec2_backends[call.account][call.region]
        if properties.get("GroupId"):
            (group,) = ec2.describe_security_groups(group_ids=[properties["GroupId"]])
        else:
            (group,) = ec2.describe_security_groups(groupnames=[properties.get("GroupName")])
        source = {"PrefixListId": prefix_list}
        if properties.get("Description"):
            source["Description"] = properties["Description"]
        ec2.authorize_security_group_ingress(
            group_name_or_id=group.id,
            ip_protocol=properties.get("IpProtocol"),
            from_port=properties.get("FromPort"),
            to_port=properties.get("ToPort"),
            ip_ranges=[],
            prefix_list_ids=[source],
        )
        return call.cls(group, properties)


def fix_security_group_rules() -> None:
    """``AWS::EC2::SecurityGroup``'s inline rules as CloudFormation applies them.

    moto 5.2.5 ``SecurityGroup.create_from_cloudformation_json`` reads ``FromPort`` and
    ``ToPort`` with ``[]``, so ``{IpProtocol: -1, CidrIp: ...}`` (all traffic, no ports, as
    quickstart-hashicorp-vault's load balancer group has it) fails with ``KeyError: 'FromPort'``
    after the group was made, and the group outlives the rollback; it drops ``CidrIpv6``,
    ``SourcePrefixListId``, ``SourceSecurityGroupOwnerId`` and ``Description`` of a rule, and
    ignores ``SecurityGroupEgress``, so the group keeps the default allow-all egress rule that
    CloudFormation removes when the template lists egress rules. Here the group is made with
    moto's own calls and every rule is authorized; a rule moto refuses fails the resource after
    the group is deleted again. Upstream: not reported to moto as of 5.2.5.
    """
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroup

    def sources(rule: dict[str, Any], prefix: str) -> dict[str, Any]:
        note = {"Description": rule["Description"]} if rule.get("Description") else {}
        ranges: list[dict[str, Any]] = []
        if rule.get("CidrIp"):
            ranges.append({"CidrIp": rule["CidrIp"], **note})
        if rule.get("CidrIpv6"):
            ranges.append({"CidrIpv6": rule["CidrIpv6"], **note})
        group: dict[str, Any] = {}
        if rule.get(f"{prefix}SecurityGroupId"):
            group["GroupId"] = rule[f"{prefix}SecurityGroupId"]
        if rule.get(f"{prefix}SecurityGroupName"):
            group["GroupName"] = rule[f"{prefix}SecurityGroupName"]
        if group and rule.get(f"{prefix}SecurityGroupOwnerId"):
            group["UserId"] = rule[f"{prefix}SecurityGroupOwnerId"]
        if group:
            group.update(note)
        prefix_list = rule.get(
            "SourcePrefixListId" if prefix == "Source" else "DestinationPrefixListId"
        )
        return {
            "ip_protocol": str(rule.get("IpProtocol")),
            "from_port": rule.get("FromPort"),
            "to_port": rule.get("ToPort"),
            "ip_ranges": ranges,
            "source_groups": [group] if group else [],
            "prefix_list_ids": [{"PrefixListId": prefix_list, **note}] if prefix_list else [],
        }

    @_replaces(SecurityGroup)
    def create(call: Hook) -> Any:
        properties = call.properties
        ec2 = ec2_backends[call.account][call.region]
        vpc_id = properties.get("VpcId")
        group = ec2.create_security_group(
            name=call.name, description=properties.get("GroupDescription"), vpc_id=vpc_id
        )
        try:
            for tag in properties.get("Tags", []):
                group.add_tag(tag["Key"], tag["Value"])
            for rule in properties.get("SecurityGroupIngress") or []:
                ec2.authorize_security_group_ingress(
                    group_name_or_id=group.id, vpc_id=vpc_id, **sources(rule, "Source")
                )
            egress = properties.get("SecurityGroupEgress")
            if egress and vpc_id:  # the template's rules replace the default one
                group.egress_rules = []
                for rule in egress:
                    ec2.authorize_security_group_egress(
                        group_name_or_id=group.id, vpc_id=vpc_id, **sources(rule, "Destination")
                    )
        except Exception:
            ec2.delete_security_group(group_id=group.id)
            raise
        return group


def fix_managed_policy_arns() -> None:
    """``ManagedPolicyArns`` of ``AWS::IAM::Role`` and ``AWS::IAM::User`` are attached.

    moto 5.2.5 ``Role.create_from_cloudformation_json`` and ``User``'s read ``Policies`` and
    never ``ManagedPolicyArns``: the stack is ``CREATE_COMPLETE`` with a role that has no
    attached policy (``ListAttachedRolePolicies`` is empty), and an ARN that is no policy
    (git2s3's ``Sub 'arn:${AWS::Partition}:...``, a missing ``!``) passes, where IAM refuses it
    and CloudFormation fails the role. Each ARN is attached with moto's own call (AWS managed
    policies exist, ``emulation.iam.fix_aws_managed_policies``); a refusal deletes what
    was made and fails the resource with IAM's words. Deleting detaches them first, as
    CloudFormation does. Upstream: not reported to moto as of 5.2.5.
    """
    from moto.iam.models import ManagedPolicy, Role, User, iam_backends
    from moto.utilities.utils import get_partition

    def attaching(model: Any, attach: str, detach: str, delete: str, collection: str) -> None:
        @_replaces(model)
        def create(call: Hook) -> Any:
            made = call.proceed()
            iam = iam_backends[call.account][get_partition(call.region)]
            arns = call.properties.get("ManagedPolicyArns") or []
            try:
                for arn in arns:
                    getattr(iam, attach)(arn, made.name)
            except Exception:
                for arn in list(made.managed_policies):
                    getattr(iam, detach)(arn, made.name)
                for name in list(made.policies):
                    made.policies.pop(name, None)
                getattr(iam, delete)(made.name)
                raise
            made.motobox_managed_policy_arns = list(arns)
            return made

        @_replaces(model, "delete_from_cloudformation_json")
        def delete_(call: Hook) -> None:
            # The template's ARNs are unresolved here (``!Sub``, ``!Ref``): detach what the
            # creation attached, which it kept on the model.
            iam = iam_backends[call.account][get_partition(call.region)]
            made = next((m for m in getattr(iam, collection).values() if m.name == call.name), None)
            for arn in getattr(made, "motobox_managed_policy_arns", None) or []:
                try:
                    getattr(iam, detach)(arn, call.name)
                except Exception:
                    pass  # detached already by the program
            call.proceed()

    attaching(Role, "attach_role_policy", "detach_role_policy", "delete_role", "roles")
    attaching(User, "attach_user_policy", "detach_user_policy", "delete_user", "users")

    @_replaces(ManagedPolicy, "delete_from_cloudformation_json")
    def delete_policy(call: Hook) -> None:
        """moto 5.2.5 cannot delete an ``AWS::IAM::ManagedPolicy``: it stayed attached to the
        stack's role (``Roles: [!Ref Role]``), whose deletion then failed with "DeleteConflict:
        Cannot delete entity, must detach all policies first." and left the stack
        ``DELETE_FAILED`` where CloudFormation deletes both (quickstart-git2s3's
        ``CodeBuildBasePolicy``). The policy is detached and deleted here."""
        iam = iam_backends[call.account][get_partition(call.region)]
        policy = iam.managed_policies.get(call.name)
        if policy is None:
            return
        holders: list[Any] = [*iam.roles.values(), *iam.users.values(), *iam.groups.values()]
        for holder in holders:
            if call.name in holder.managed_policies:
                policy.detach_from(holder)
        iam.delete_policy(call.name)


def fix_ssm_parameter() -> None:
    """``AWS::SSM::Parameter`` as CloudFormation has it: a generated name when the template
    gives none, and the attributes ``Type`` and ``Value``.

    moto 5.2.5 ``Parameter.create_from_cloudformation_json`` passes the ``Name`` property on
    as it is, so a parameter without one fails with "'NoneType' object has no attribute
    'lower'" (the name CloudFormation would generate, moto's ``resource_name``, is not used);
    and the model has no ``get_cfn_attribute``, so ``!GetAtt Param.Value`` fails its stack
    with an ``AttributeError``. Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_cfn_moto_fixes.py::test_getatt_on_an_ssm_parameter_without_a_name``.
    """
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.ssm.models import Parameter

    if getattr(Parameter.create_from_cloudformation_json, "motobox_original", None):
        return
    Parameter.motobox_own_names = tuple(vars(Parameter))  # type: ignore[attr-defined]

    @_replaces(Parameter)
    def create(call: Hook) -> Any:
        if not call.properties.get("Name"):
            call.spec = {**call.spec, "Properties": {**call.properties, "Name": call.name}}
        return call.proceed()

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name == "Value":
            return self.value
        if attribute_name == "Type":
            return self.parameter_type
        raise UnformattedGetAttTemplateException()

    Parameter.get_cfn_attribute = get_cfn_attribute  # type: ignore[attr-defined]
    Parameter.has_cfn_attr = classmethod(  # type: ignore[assignment,method-assign]
        lambda cls, attr: attr in ("Type", "Value")
    )


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def _rest_api_document(body: Any) -> dict[str, Any]:
    """A RestApi's ``Body`` as moto's ``put_rest_api`` reads it: a mapping (the property may
    be JSON or YAML text), OpenAPI 3 (moto refuses ``swagger: "2.0"``, whose ``paths`` it
    would read the same), only operations under each path (``parameters`` is not a method),
    ``x-amazon-apigateway-any-method`` as ``ANY`` and integration types upper-cased (API
    Gateway reads ``aws_proxy`` as ``AWS_PROXY``; moto compares case-sensitively), and an
    integration without ``uri``/``httpMethod`` (``mock``) given empty ones, which moto's
    ``put_rest_api`` otherwise fails on with a ``TypeError``."""
    from motobox.emulation.cloudformation import template

    doc = template.parse(body) if isinstance(body, str) else dict(body or {})
    paths: dict[str, Any] = {}
    for path, item in (doc.get("paths") or {}).items():
        methods: dict[str, Any] = {}
        for key, operation in (item or {}).items():
            name = "ANY" if key == "x-amazon-apigateway-any-method" else key
            if name.lower() not in _HTTP_METHODS and name != "ANY":
                continue
            operation = dict(operation or {})
            integration = operation.get("x-amazon-apigateway-integration")
            if isinstance(integration, dict) and integration.get("type"):
                operation["x-amazon-apigateway-integration"] = {
                    "uri": "",  # moto's put_integration takes both; a MOCK has neither
                    "httpMethod": "",
                    **integration,
                    "type": str(integration["type"]).upper(),
                }
            methods[name] = operation
        paths[path] = methods
    out = {k: v for k, v in doc.items() if k != "swagger"}
    out["openapi"] = "3.0.1" if doc.get("swagger") else doc.get("openapi", "3.0.1")
    out["paths"] = paths
    return out


def fix_rest_api_body() -> None:
    """``AWS::ApiGateway::RestApi`` made from its OpenAPI ``Body`` (or ``BodyS3Location``).

    moto 5.2.5 ``RestAPI.create_from_cloudformation_json`` reads ``Properties["Name"]`` and
    nothing of ``Body``: SAM's implicit API (every ``Type: Api`` event, ``AWS::Serverless::Api``)
    has a ``Body`` and no ``Name`` and failed with "KeyError: 'Name'"; with a ``Name`` the API
    completed with only its root resource, so its ``AWS::ApiGateway::Deployment`` failed with
    "The REST API doesn't contain any methods". CloudFormation names the API after the
    document's ``info.title`` and imports its paths, methods and integrations. Upstream: not
    reported to moto as of 5.2.5 (searched 2026-11; localstack/localstack#2641 was the same
    bug in LocalStack). Test: ``test_cfn_moto_fixes.py::test_a_rest_api_is_made_from_its_body``.
    """
    from moto.apigateway.models import RestAPI, apigateway_backends

    @_replaces(RestAPI)
    def create(call: Hook) -> Any:
        properties = call.properties
        body = properties.get("Body")
        location = properties.get("BodyS3Location")
        if body is None and location:
            from moto.s3.models import s3_backends

            from motobox.emulation.cloudformation import stubs

            s3 = s3_backends[call.account][stubs.partition_of(call.region)]
            key = s3.get_object(location["Bucket"], location["Key"], location.get("Version"))
            body = key.value.decode("utf-8") if key is not None else None
        doc = _rest_api_document(body) if body is not None else None
        info = (doc or {}).get("info") or {}
        name = properties.get("Name") or info.get("title")
        if not name:
            from moto.cloudformation.exceptions import ValidationError

            raise ValidationError(call.name, "Name is required when Body is not given")
        backend = apigateway_backends[call.account][call.region]
        api = backend.create_rest_api(
            name=name,
            description=properties.get("Description", info.get("description", "")),
            endpoint_configuration=properties.get("EndpointConfiguration"),
        )
        if doc is not None:
            backend.put_rest_api(api.id, doc, fail_on_warnings=False, mode="overwrite")
        return api


#: moto's ``put_method`` / ``put_integration`` arguments and the CloudFormation properties
#: they take.
_METHOD_ARGS = {
    "api_key_required": "ApiKeyRequired",
    "request_parameters": "RequestParameters",
    "request_models": "RequestModels",
    "operation_name": "OperationName",
    "authorizer_id": "AuthorizerId",
    "authorization_scopes": "AuthorizationScopes",
    "request_validator_id": "RequestValidatorId",
}
_INTEGRATION_ARGS = {
    "integration_type": "Type",
    "uri": "Uri",
    "integration_method": "IntegrationHttpMethod",
    "credentials": "Credentials",
    "request_templates": "RequestTemplates",
    "passthrough_behavior": "PassthroughBehavior",
    "tls_config": "TlsConfig",
    "cache_namespace": "CacheNamespace",
    "timeout_in_millis": "TimeoutInMillis",
    "request_parameters": "RequestParameters",
    "content_handling": "ContentHandling",
    "connection_type": "ConnectionType",
}


def _picked(properties: Any, arguments: dict[str, str]) -> dict[str, Any]:
    return {argument: properties.get(name) for argument, name in arguments.items()}


def fix_apigateway_method() -> None:
    """``AWS::ApiGateway::Method`` as CloudFormation takes it: a ``MOCK`` integration (no
    ``IntegrationHttpMethod``, no ``Uri``), no integration at all, no ``AuthorizationType``
    (NONE), and the method's and integration's responses, templates and parameters.

    moto 5.2.5 ``Method.create_from_cloudformation_json`` reads
    ``Integration.IntegrationHttpMethod``, ``Integration.Uri`` and ``AuthorizationType`` with
    ``[]``, so the CORS preflight that CDK's ``RestApi`` adds (``OPTIONS`` with a
    ``MockIntegration``) fails its stack with "KeyError: 'IntegrationHttpMethod'"; and it
    drops ``MethodResponses``, ``IntegrationResponses``, ``RequestTemplates`` and the
    request parameters, so ``GetIntegration`` answers none of them. Upstream: not reported
    to moto as of 5.2.5. Test: ``test_cfn_moto_fixes.py::test_a_mock_integration_method``.
    """
    from moto.apigateway.models import Method, apigateway_backends

    @_replaces(Method)
    def create(call: Hook) -> Any:
        props = call.properties
        backend = apigateway_backends[call.account][call.region]
        api, resource, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
        method = backend.put_method(
            function_id=api,
            resource_id=resource,
            method_type=verb,
            authorization_type=props.get("AuthorizationType") or "NONE",
            **_picked(props, _METHOD_ARGS),
        )
        for response in props.get("MethodResponses") or []:
            backend.put_method_response(
                api,
                resource,
                verb,
                str(response["StatusCode"]),
                response.get("ResponseModels"),
                response.get("ResponseParameters"),
            )
        integration = props.get("Integration")
        if integration:
            backend.put_integration(
                function_id=api,
                resource_id=resource,
                method_type=verb,
                **_picked(integration, _INTEGRATION_ARGS),
            )
            for response in integration.get("IntegrationResponses") or []:
                backend.put_integration_response(
                    api,
                    resource,
                    verb,
                    str(response["StatusCode"]),
                    response.get("SelectionPattern"),
                    response.get("ResponseTemplates"),
                    response.get("ResponseParameters"),
                    response.get("ContentHandling"),
                )
        return method


def fix_lambda_permission_deletion() -> None:
    """Deleting an ``AWS::Lambda::Permission`` removes its statement from the function's
    policy.

    moto 5.2.5 ``Permission.create_from_cloudformation_json`` adds the statement and returns a
    model that remembers neither the function nor the statement, with no ``delete``: DeleteStack
    said DELETE_COMPLETE and the statement stayed (``GetPolicy`` still answered it).
    Upstream: not reported to moto as of 5.2.5.
    """
    import json

    from moto.awslambda.models import Permission
    from moto.awslambda.utils import get_backend

    if getattr(Permission.create_from_cloudformation_json, "motobox_original", None):
        return

    @_replaces(Permission)
    def create(call: Hook) -> Any:
        properties = call.properties
        function = get_backend(call.account, call.region).get_function(properties["FunctionName"])
        statement, _ = function.policy.add_statement(raw=json.dumps(properties))
        permission = Permission(region=call.region)  # type: ignore[abstract]
        permission.motobox_function = function  # type: ignore[attr-defined]
        permission.motobox_statement = statement  # type: ignore[attr-defined]
        return permission

    def delete(self: Any, account_id: str, region_name: str) -> None:
        function = getattr(self, "motobox_function", None)
        statement = getattr(self, "motobox_statement", None)
        if function is not None and statement in function.policy.statements:
            function.policy.statements.remove(statement)

    Permission.delete = delete  # type: ignore[attr-defined]


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


def fix_change_set_type() -> None:
    """CreateChangeSet without ``ChangeSetType`` updates the stack, as CloudFormation does, and
    a ``CREATE`` change set for a stack that already exists is refused.

    moto 5.2.5 ``CloudFormationResponse.create_change_set`` reads
    ``self._get_param("ChangeSetType", "CREATE")``: a program that leaves the type out (the API
    reference: "By default, CloudFormation specifies UPDATE") gets a *second* stack of the same
    name, in REVIEW_IN_PROGRESS, whose change set adds every resource again. And moto makes a
    new stack for any ``CREATE``, where CloudFormation answers ``ValidationError "Stack [NAME]
    already exists and cannot be created again with the changeSet [CHANGE_SET]."`` unless the
    stack is only under review. Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_cfn_changesets.py::test_a_change_set_without_a_type_updates_the_stack``.
    """
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse

    original = CloudFormationResponse.create_change_set
    if getattr(original, "motobox_change_set_type", False):
        return

    def create_change_set(self: Any) -> Any:
        if not self._get_param("ChangeSetType"):
            if self.automated_parameter_parsing:
                self.params["ChangeSetType"] = "UPDATE"
            else:
                self.querystring["ChangeSetType"] = ["UPDATE"]
        return original(self)

    fixed = _mark(create_change_set, original)
    fixed.motobox_change_set_type = True
    CloudFormationResponse.create_change_set = fixed  # type: ignore[method-assign]

    original_backend = CloudFormationBackend.create_change_set

    def backend_create_change_set(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("stack_name")
        if kwargs.get("change_set_type") == "CREATE" and any(
            stack.name == name and stack.status not in ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE")
            for stack in self.stacks.values()
        ):
            raise ValidationError(
                message=f"Stack [{name}] already exists and cannot be created again with the "
                f"changeSet [{kwargs.get('change_set_name')}]."
            )
        return original_backend(self, *args, **kwargs)

    CloudFormationBackend.create_change_set = _mark(  # type: ignore[method-assign]
        backend_create_change_set, original_backend
    )


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


def _bucket_notifications(cfn: Any) -> dict[str, Any] | None:
    """A bucket's ``NotificationConfiguration`` as CloudFormation writes it, in the shape
    moto's ``FakeBucket.set_notification_configuration`` reads (the S3 API's, parsed)."""
    if not isinstance(cfn, dict):
        return None
    out: dict[str, Any] = {}
    for cfn_key, api_key, target, arn_key in (
        ("LambdaConfigurations", "CloudFunctionConfiguration", "Function", "CloudFunction"),
        ("QueueConfigurations", "QueueConfiguration", "Queue", "Queue"),
        ("TopicConfigurations", "TopicConfiguration", "Topic", "Topic"),
    ):
        items = []
        for item in cfn.get(cfn_key) or []:
            converted: dict[str, Any] = {arn_key: item[target], "Event": [item["Event"]]}
            rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            if rules:
                converted["Filter"] = {"S3Key": {"FilterRule": list(rules)}}
            items.append(converted)
        if items:
            out[api_key] = items
    event_bridge = cfn.get("EventBridgeConfiguration") or {}
    if str(event_bridge.get("EventBridgeEnabled", "false")).lower() == "true":
        out["EventBridgeConfiguration"] = {}
    return out or None


def _bucket_lifecycle(cfn: Any) -> list[dict[str, Any]]:
    """A bucket's ``LifecycleConfiguration`` rules as CloudFormation writes them, in the shape
    moto's ``FakeBucket.set_lifecycle`` reads (the S3 API's, parsed)."""
    rules = []
    for rule in (cfn.get("Rules") if isinstance(cfn, dict) else None) or []:
        out: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule.get("Status", "Enabled")}
        prefix = rule.get("Prefix", "")
        tags = [
            {"Key": t["Key"], "Value": t.get("Value", "")} for t in rule.get("TagFilters") or []
        ]
        out["Filter"] = {"And": {"Prefix": prefix, "Tag": tags}} if tags else {"Prefix": prefix}
        if "ExpirationInDays" in rule:
            out["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
        elif "ExpirationDate" in rule:
            out["Expiration"] = {"Date": str(rule["ExpirationDate"])}
        elif "ExpiredObjectDeleteMarker" in rule:
            marker = str(rule["ExpiredObjectDeleteMarker"]).lower()
            out["Expiration"] = {"ExpiredObjectDeleteMarker": marker}
        noncurrent = rule.get("NoncurrentVersionExpiration") or {}
        days = noncurrent.get("NoncurrentDays", rule.get("NoncurrentVersionExpirationInDays"))
        if days is not None:
            out["NoncurrentVersionExpiration"] = {"NoncurrentDays": str(days)}
        abort = rule.get("AbortIncompleteMultipartUpload") or {}
        if abort.get("DaysAfterInitiation") is not None:
            out["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": str(abort["DaysAfterInitiation"])
            }
        transitions = [*(rule.get("Transitions") or []), *filter(None, [rule.get("Transition")])]
        if transitions:
            out["Transition"] = [
                {
                    k: str(t[c])
                    for k, c in (("Days", "TransitionInDays"), ("Date", "TransitionDate"))
                    if c in t
                }
                | {"StorageClass": t.get("StorageClass")}
                for t in transitions
            ]
        older = [
            *(rule.get("NoncurrentVersionTransitions") or []),
            *filter(None, [rule.get("NoncurrentVersionTransition")]),
        ]
        if older:
            out["NoncurrentVersionTransition"] = [
                {
                    "NoncurrentDays": str(t.get("TransitionInDays")),
                    "StorageClass": t.get("StorageClass"),
                }
                for t in older
            ]
        rules.append(out)
    return rules


def fix_s3_bucket_properties() -> None:
    """An ``AWS::S3::Bucket``'s ``NotificationConfiguration``, ``VersioningConfiguration``,
    ``LifecycleConfiguration`` (kept, as the API keeps it; moto expires nothing) and
    ``PublicAccessBlockConfiguration`` are applied, at creation and update.

    moto 5.2.5 ``FakeBucket.create_from_cloudformation_json`` and
    ``update_from_cloudformation_json`` read ``BucketName``, ``BucketEncryption`` and ``Tags``
    only: a bucket with ``NotificationConfiguration`` was CREATE_COMPLETE with no notification,
    so the Lambda functions, queues and topics it names were never told of an object (the
    Serverless Framework's ``s3`` event, SAM's ``S3`` event, CDK's ``addEventNotification``
    without its custom resource), and nothing said so. The configuration is converted to the
    S3 API's shape and given to moto's bucket, which then notifies as ``PutBucketNotification
    Configuration`` makes it (motobox runs the Lambda targets). The bucket's other properties
    moto ignores are reported as not emulated (``engine.UNREAD_PROPERTIES``).
    Upstream: unchanged on moto's main branch (``moto/s3/models.py``).
    Test: ``tests/test_cfn_s3_bucket.py``.
    """
    from moto.s3.models import FakeBucket, s3_backends
    from moto.utilities.utils import get_partition

    if getattr(FakeBucket.create_from_cloudformation_json, "motobox_original", None):
        return
    original_update = FakeBucket.update_from_cloudformation_json

    def apply(bucket: Any, properties: Any, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        properties = properties if isinstance(properties, dict) else {}
        versioning = properties.get("VersioningConfiguration") or {}
        if versioning.get("Status"):
            backend.put_bucket_versioning(bucket.name, str(versioning["Status"]))
        block = properties.get("PublicAccessBlockConfiguration")
        if isinstance(block, dict):
            # CloudFormation's shape is the API's; every flag left out is false
            bucket.public_access_block = None
            if block:
                backend.put_public_access_block(bucket.name, {k: str(v) for k, v in block.items()})
        elif bucket.public_access_block is not None:
            bucket.public_access_block = None
        lifecycle = _bucket_lifecycle(properties.get("LifecycleConfiguration"))
        if lifecycle:
            backend.put_bucket_lifecycle(bucket.name, lifecycle)
        elif bucket.rules:
            bucket.delete_lifecycle()
        notifications = _bucket_notifications(properties.get("NotificationConfiguration"))
        if notifications or bucket.notification_configuration is not None:
            bucket.set_notification_configuration(notifications)

    @_replaces(FakeBucket)
    def create(call: Hook) -> Any:
        bucket = call.proceed()
        apply(bucket, call.properties, call.account, call.region)
        return bucket

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        bucket = original_update(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        if bucket is original_resource:  # a replacement was made by create, above
            apply(bucket, cloudformation_json.get("Properties"), account_id, region_name)
        return bucket

    updated: Any = classmethod(update_from_cloudformation_json)
    FakeBucket.update_from_cloudformation_json = updated  # type: ignore[method-assign]


def fix_validate_template() -> None:
    """``ValidateTemplate`` checks what CloudFormation checks, not what cfn-lint warns about.

    moto 5.2.5 ``CloudFormationResponse.validate_template`` runs every cfn-lint rule over the
    template and fails with the first match, whatever its level: a warning (W2531, a Lambda
    runtime past its deprecation date, on every ``nodejs18.x`` or ``python3.9`` function), an
    informational note, or a property check CloudFormation makes only when it creates the
    resource. It passes the message as ``ValidationError``'s first argument, the stack name,
    so the client reads "Stack with id Runtime 'python3.9' was deprecated on ... does not
    exist". ``serverless deploy`` (v3) calls ValidateTemplate before every deployment and
    stops there. CloudFormation checks the template's syntax and structure (a YAML or JSON
    object, ``Resources`` with a ``Type`` each, references and ``DependsOn`` that name
    something, no cycle): the checks ``template.creation_order`` makes at CreateStack, with
    CloudFormation's words. The answer also lists the template's parameters and the
    capabilities its IAM resources need, as CloudFormation's does (moto answers none).
    Upstream: unchanged on moto's main branch (``moto/cloudformation/responses.py``).
    Test: ``tests/test_cfn_validate_template.py``.
    """
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    from motobox.emulation.cloudformation import template

    original = CloudFormationResponse.validate_template
    if getattr(original, "motobox_original", None):
        return

    def validate_template(self: Any) -> Any:
        body = self._get_param("TemplateBody")
        url = self._get_param("TemplateURL")
        if url:
            body = self._get_stack_from_s3_url(url)
        try:
            parsed = template.parse(body or "")
            if not parsed.get("Resources"):
                raise template.TemplateError(
                    "Template format error: At least one Resources member must be defined."
                )
            if not template.transforms(parsed):
                template.creation_order(parsed)
        except template.TemplateError as exc:
            raise ValidationError(message=str(exc)) from None
        result: dict[str, Any] = {
            "Parameters": _template_parameters(parsed),
            "DeclaredTransforms": template.transforms(parsed),
        }
        if isinstance(parsed.get("Description"), str):
            result["Description"] = parsed["Description"]
        result.update(_template_capabilities(parsed))
        return ActionResult(result)

    CloudFormationResponse.validate_template = _mark(validate_template, original)  # type: ignore[method-assign]


def _template_parameters(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key, spec in (parsed.get("Parameters") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        item: dict[str, Any] = {
            "ParameterKey": key,
            "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true",
        }
        if "Default" in spec:
            default = spec["Default"]
            item["DefaultValue"] = (
                ",".join(map(str, default)) if isinstance(default, list) else str(default)
            )
        if isinstance(spec.get("Description"), str):
            item["Description"] = spec["Description"]
        out.append(item)
    return out


_NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


def _template_capabilities(parsed: dict[str, Any]) -> dict[str, Any]:
    kinds: list[str] = []
    named = False
    for resource in (parsed.get("Resources") or {}).values():
        kind = resource.get("Type") if isinstance(resource, dict) else None
        if isinstance(kind, str) and kind.startswith("AWS::IAM::"):
            kinds.append(kind)
            props = resource.get("Properties") or {}
            named = named or (kind in _NAMED_IAM and _NAMED_IAM[kind] in props)
    if not kinds:
        return {"Capabilities": []}
    return {
        "Capabilities": ["CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM"],
        "CapabilitiesReason": "The following resource(s) require capabilities: ["
        + ", ".join(dict.fromkeys(kinds))
        + "]",
    }


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
        # In the template's order, as moto lists them (not the order they were made in)
        written = list((getattr(self, "template_dict", None) or {}).get("Resources") or {})
        made = run.made
        return [made[n] for n in written if n in made] + [
            v for n, v in made.items() if n not in written
        ]

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


def _lower_first(value: Any) -> Any:
    """A CloudFormation property's shape as the service API has it: ``Level`` -> ``level``,
    ``CloudWatchLogsLogGroup`` -> ``cloudWatchLogsLogGroup``, all the way down."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _lower_first(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower_first(item) for item in value]
    return value


def _state_machine_definition(properties: dict[str, Any], account_id: str, region: str) -> str:
    """The definition CloudFormation gives Step Functions: ``DefinitionString``,
    ``Definition`` (an object) or the ``DefinitionS3Location`` object (JSON or YAML), with
    each ``${key}`` of ``DefinitionSubstitutions`` replaced."""
    import yaml
    from moto.s3.models import s3_backends
    from moto.stepfunctions.exceptions import ValidationException
    from moto.utilities.utils import get_partition

    if properties.get("Definition") is not None:
        definition = json.dumps(properties["Definition"])
    elif properties.get("DefinitionS3Location"):
        location = properties["DefinitionS3Location"]
        backend = s3_backends[account_id][get_partition(region)]
        try:
            key = backend.get_object(location["Bucket"], location["Key"], location.get("Version"))
        except Exception:
            key = None
        if key is None:
            raise ValidationException(
                f"DefinitionS3Location s3://{location.get('Bucket')}/{location.get('Key')}: "
                "S3 Error Code: NoSuchKey. The specified key does not exist."
            )
        text = key.value.decode("utf-8")
        try:
            json.loads(text)
            definition = text
        except ValueError:
            definition = json.dumps(yaml.safe_load(text))
    else:
        definition = str(properties.get("DefinitionString") or "")
    for name, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + str(name) + "}", str(value))
    return definition


def fix_state_machine_properties() -> None:
    """``AWS::StepFunctions::StateMachine`` made from every property CloudFormation reads.

    moto 5.2.5 ``StateMachine.create_from_cloudformation_json`` reads ``StateMachineName``,
    ``DefinitionString``, ``RoleArn`` and ``Tags`` only: a machine defined by ``Definition``
    (an object, as SAM and many templates write it) or ``DefinitionS3Location`` got the
    definition "" and ``CREATE_COMPLETE``; ``DefinitionSubstitutions`` were left as
    ``${...}``; ``StateMachineType: EXPRESS`` became STANDARD; ``LoggingConfiguration``,
    ``TracingConfiguration`` and ``EncryptionConfiguration`` were dropped. moto's backend
    takes all of them. Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Found: quickstart-amazon-selling-partner-api-reports-notifications.
    Test: ``test_cfn_moto_fixes.py::test_a_state_machine_from_s3_with_substitutions``.
    """
    from moto.stepfunctions.models import StateMachine, stepfunctions_backends
    from moto.stepfunctions.utils import cfn_to_api_tags

    @_replaces(StateMachine)
    def create(call: Hook) -> Any:
        properties = call.properties
        backend = stepfunctions_backends[call.account][call.region]
        optional = {
            "loggingConfiguration": properties.get("LoggingConfiguration"),
            "tracingConfiguration": properties.get("TracingConfiguration"),
            "encryptionConfiguration": properties.get("EncryptionConfiguration"),
        }
        return backend.create_state_machine(
            properties.get("StateMachineName", call.name),
            _state_machine_definition(properties, call.account, call.region),
            properties.get("RoleArn", ""),
            tags=cfn_to_api_tags(properties.get("Tags") or []),
            sm_type=properties.get("StateMachineType") or "STANDARD",
            **{name: _lower_first(value) for name, value in optional.items() if value},
        )


def fix_kms_key() -> None:
    """``AWS::KMS::Key`` as CloudFormation makes it: its key policy a JSON document, the
    default policy when it gives none, and its ``KeySpec``, ``KeyUsage``, ``Enabled`` and
    ``MultiRegion``.

    moto 5.2.5 ``Key.create_from_cloudformation_json`` stores ``KeyPolicy`` as the template's
    mapping, so every later call that reads the policy fails: DescribeKey answered a 500
    ("TypeError: the JSON object must be str, bytes or bytearray, not dict") and GetKeyPolicy
    a JSON object where the SDK expects a string. A key without ``KeyPolicy`` (optional since
    2022) failed its stack with "KeyError: 'KeyPolicy'"; ``KeySpec: RSA_2048`` with
    ``KeyUsage: SIGN_VERIFY`` made a symmetric ENCRYPT_DECRYPT key; ``Enabled: false`` left the
    key's state Enabled. Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Found: quickstart-amazon-selling-partner-api-reports-notifications (the Lambda's key).
    Test: ``test_cfn_moto_fixes.py::test_a_kms_key_policy_spec_and_state``.
    """
    from moto.kms.models import Key, kms_backends

    @_replaces(Key)
    def create(call: Hook) -> Any:
        properties = call.properties
        policy = properties.get("KeyPolicy")
        if policy is not None and not isinstance(policy, str):
            policy = json.dumps(policy)
        backend = kms_backends[call.account][call.region]
        key = backend.create_key(
            policy=policy,
            key_usage=properties.get("KeyUsage") or "ENCRYPT_DECRYPT",
            key_spec=properties.get("KeySpec") or "SYMMETRIC_DEFAULT",
            description=properties.get("Description") or "",
            tags=properties.get("Tags", []),
            multi_region=bool(properties.get("MultiRegion", False)),
        )
        key.key_rotation_status = properties.get("EnableKeyRotation", False)
        if str(properties.get("Enabled", True)).lower() == "false":
            backend.disable_key(key.id)
        return key


def _generated_secret(spec: dict[str, Any]) -> str:
    """``GenerateSecretString``: a password made as GetRandomPassword makes it, alone or put
    under ``GenerateStringKey`` in the JSON ``SecretStringTemplate``."""
    from moto.secretsmanager.utils import random_password

    def flag(name: str, default: bool = False) -> bool:
        return str(spec.get(name, default)).lower() == "true"

    password = random_password(
        int(spec.get("PasswordLength", 32)),
        str(spec.get("ExcludeCharacters", "")),
        flag("ExcludeNumbers"),
        flag("ExcludePunctuation"),
        flag("ExcludeUppercase"),
        flag("ExcludeLowercase"),
        flag("IncludeSpace"),
        flag("RequireEachIncludedType", True),
    )
    if spec.get("SecretStringTemplate") is None:
        return str(password)
    document = json.loads(str(spec["SecretStringTemplate"]))
    document[str(spec.get("GenerateStringKey"))] = password
    return json.dumps(document)


def fix_secrets_manager_secret() -> None:
    """``AWS::SecretsManager::Secret`` emulated in moto's Secrets Manager.

    moto 5.2.5 has no CloudFormation model of a secret, so it was stubbed (and reported), but
    its stub's ``Ref`` was a generated name where CloudFormation gives the secret's ARN: an
    ``AWS::IAM::Policy`` with ``Resource: !Ref Secret`` failed its stack with
    "MalformedPolicyDocument: Resource ... must be in ARN format" (aws-ia/cfn-ps-apache-
    superset), and a ``{{resolve:secretsmanager:${Secret}::password}}`` in the same template
    failed with "Secrets Manager can't find the specified secret" (quickstart-salesforce-
    connect-appsync-rds-postgresql's Aurora cluster), both errors that blame the template.
    Here the secret is made with moto's ``create_secret`` (``SecretString``, or
    ``GenerateSecretString`` as GetRandomPassword makes it), ``Ref`` and ``Id`` are its ARN,
    and DeleteStack deletes it without a recovery window.
    Test: ``test_cfn_moto_fixes.py::test_a_secret_is_emulated``.
    """
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    if "AWS::SecretsManager::Secret" in parsing.get_model_map():
        return

    class Secret(CloudFormationModel):
        def __init__(self, arn: str, name: str) -> None:
            self.arn = arn
            self.name = name

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SecretsManager::Secret"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Id"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

            if attribute_name == "Id":
                return self.arn
            raise UnformattedGetAttTemplateException()

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Secret:
            properties = cloudformation_json.get("Properties") or {}
            value = properties.get("SecretString")
            if value is None and properties.get("GenerateSecretString") is not None:
                value = _generated_secret(properties["GenerateSecretString"])
            backend = secretsmanager_backends[account_id][region_name]
            made = json.loads(
                backend.create_secret(
                    name=properties.get("Name") or resource_name,
                    secret_string=value,
                    secret_binary=None,
                    description=properties.get("Description"),
                    tags=properties.get("Tags"),
                    kms_key_id=properties.get("KmsKeyId"),
                    client_request_token=None,
                    replica_regions=[
                        {"Region": r["Region"], "KmsKeyId": r.get("KmsKeyId")}
                        for r in properties.get("ReplicaRegions") or []
                    ],
                    force_overwrite=False,
                )
            )
            return cls(made["ARN"], made["Name"])

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> Secret:
            properties = cloudformation_json.get("Properties") or {}
            backend = secretsmanager_backends[account_id][region_name]
            if properties.get("SecretString") is not None:
                backend.put_secret_value(
                    original_resource.arn,
                    properties["SecretString"],
                    None,  # type: ignore[arg-type]
                    None,  # type: ignore[arg-type]
                    ["AWSCURRENT"],
                )
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> None:
            backend = secretsmanager_backends[account_id][region_name]
            backend.delete_secret(resource_name, None, True)

    # get_model_list reads CloudFormationModel.__subclasses__(), which holds weak references
    fix_secrets_manager_secret.model = Secret  # type: ignore[attr-defined]
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


def fix_efs_attributes() -> None:
    """``Fn::GetAtt`` on EFS resources, and an access point's ``Ref``.

    moto 5.2.5's ``FileSystem``, ``AccessPoint`` and ``MountTarget`` have no
    ``get_cfn_attribute``, so ``!GetAtt FileSystem.Arn`` (an IAM policy's resource, as ECS
    tasks that mount EFS write it) failed its stack with "moto 5.2.5 failed: AttributeError:
    'FileSystem' object has no attribute 'get_cfn_attribute'"; ``AccessPoint`` has no
    ``physical_resource_id`` either (``engine.PHYSICAL_IDS`` gives CloudFormation's, the
    ``fsap-`` id). Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Found: aws-ia/cfn-ps-apache-superset.
    Test: ``test_cfn_moto_fixes.py::test_efs_attributes``.
    """
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.efs.models import AccessPoint, FileSystem, MountTarget

    attributes: dict[Any, dict[str, str]] = {
        FileSystem: {"Arn": "file_system_arn", "FileSystemId": "file_system_id"},
        AccessPoint: {"Arn": "access_point_arn", "AccessPointId": "access_point_id"},
        MountTarget: {"Id": "mount_target_id", "IpAddress": "ip_address"},
    }
    for model, names in attributes.items():
        if "get_cfn_attribute" in vars(model):
            continue
        model.motobox_own_names = tuple(vars(model))

        def get_cfn_attribute(self: Any, attribute_name: str, names: Any = names) -> Any:
            if attribute_name in names:
                return getattr(self, names[attribute_name])
            raise UnformattedGetAttTemplateException()

        model.get_cfn_attribute = get_cfn_attribute
        model.has_cfn_attr = classmethod(lambda cls, attr, names=names: attr in names)


def fix_listener_forward_config() -> None:
    """An ``AWS::ElasticLoadBalancingV2::Listener`` whose forward action names its target
    groups in ``ForwardConfig``.

    moto 5.2.5 ``ELBv2Backend.convert_and_validate_properties`` (the Listener's CloudFormation
    path) reads ``action["TargetGroupArn"]`` of every forward action, so a listener written
    ``ForwardConfig: {TargetGroups: [{TargetGroupArn: ...}]}`` (docker compose's ECS
    integration writes them so) failed its stack with "KeyError: 'TargetGroupArn'". moto's
    CreateListener takes that form, and a ListenerRule's CloudFormation path passes it on.
    Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Found: aws-ia/cfn-ps-apache-superset.
    Test: ``test_cfn_moto_fixes.py::test_a_listener_forwards_with_forward_config``.
    """
    from moto.elbv2.exceptions import InvalidActionTypeError
    from moto.elbv2.models import ALLOWED_ACTIONS, ELBv2Backend

    original = ELBv2Backend.convert_and_validate_properties
    if getattr(original, "motobox_original", None):
        return

    @functools.wraps(original)
    def convert_and_validate_properties(self: Any, properties: dict[str, Any]) -> Any:
        actions = []
        for number, action in enumerate(properties["DefaultActions"], start=1):
            if action["Type"] == "forward" and "TargetGroupArn" in action:
                actions.append({"Type": "forward", "TargetGroupArn": action["TargetGroupArn"]})
            elif action["Type"] in ALLOWED_ACTIONS:
                actions.append(action)
            else:
                raise InvalidActionTypeError(action["Type"], number)
        return actions

    ELBv2Backend.convert_and_validate_properties = _mark(  # type: ignore[method-assign]
        convert_and_validate_properties, original
    )


def fix_load_balancer_type() -> None:
    """An ``AWS::ElasticLoadBalancingV2::LoadBalancer`` of the ``Type`` the template gives,
    with its ``SubnetMappings``, ``IpAddressType``, ``Tags`` and ``LoadBalancerAttributes``.

    moto 5.2.5 ``FakeLoadBalancer.create_from_cloudformation_json`` reads ``SecurityGroups``,
    ``Subnets`` and ``Scheme`` only: ``Type: network`` made an application load balancer, so
    a TCP listener on it failed its stack with "ValidationError: Listener protocol 'TCP'
    must be one of 'HTTP, HTTPS'", and a stack that completed described its NLB as
    ``application``. moto's CreateLoadBalancer takes all of them. Upstream: not reported to
    moto as of 5.2.5 (searched 2026-11). Found: aws-ia/cfn-ps-apache-superset.
    Test: ``test_cfn_moto_fixes.py::test_a_listener_forwards_with_forward_config``.
    """
    from moto.elbv2.models import FakeLoadBalancer, elbv2_backends

    @_replaces(FakeLoadBalancer)
    def create(call: Hook) -> Any:
        properties = call.properties
        backend = elbv2_backends[call.account][call.region]
        balancer = backend.create_load_balancer(
            call.name,
            properties.get("SecurityGroups") or [],
            properties.get("Subnets") or [],
            subnet_mappings=properties.get("SubnetMappings"),
            scheme=properties.get("Scheme", "internet-facing"),
            loadbalancer_type=properties.get("Type") or "application",
            ip_address_type=properties.get("IpAddressType") or "ipv4",
            tags=properties.get("Tags"),
        )
        attributes = {
            str(a["Key"]): str(a["Value"]) for a in properties.get("LoadBalancerAttributes") or []
        }
        if attributes:
            backend.modify_load_balancer_attributes(balancer.arn, attributes)
        return balancer


def fix_load_balancer_attributes() -> None:
    """``Fn::GetAtt`` on a target group, and a load balancer's ``LoadBalancerFullName`` and
    ``SecurityGroups``.

    moto 5.2.5's ``FakeTargetGroup`` has no ``get_cfn_attribute``, so
    ``!GetAtt TargetGroup.TargetGroupFullName`` (a CloudWatch dashboard's or alarm's
    dimension) failed its stack with "AttributeError: 'FakeTargetGroup' object has no
    attribute 'get_cfn_attribute'"; ``FakeLoadBalancer`` raises ``NotImplementedError`` for
    ``LoadBalancerFullName`` and ``SecurityGroups``. Upstream: not reported to moto as of
    5.2.5 (searched 2026-11). Found: aws-ia/cfn-ps-apache-superset.
    Test: ``test_cfn_moto_fixes.py::test_a_listener_forwards_with_forward_config``.
    """
    from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup

    if "get_cfn_attribute" in vars(FakeTargetGroup):
        return
    FakeTargetGroup.motobox_own_names = tuple(vars(FakeTargetGroup))  # type: ignore[attr-defined]
    groups = {
        "TargetGroupArn": lambda g: g.arn,
        "TargetGroupName": lambda g: g.name,
        "TargetGroupFullName": lambda g: g.arn.split(":", 5)[5],
        "LoadBalancerArns": lambda g: list(g.load_balancer_arns),
    }
    balancers = {
        "LoadBalancerFullName": lambda b: b.arn.split(":loadbalancer/", 1)[1],
        "SecurityGroups": lambda b: list(b.security_groups or []),
    }

    def group_attribute(self: Any, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name in groups:
            return groups[attribute_name](self)
        raise UnformattedGetAttTemplateException()

    FakeTargetGroup.get_cfn_attribute = group_attribute  # type: ignore[attr-defined]
    FakeTargetGroup.has_cfn_attr = classmethod(  # type: ignore[assignment,method-assign]
        lambda cls, attr: attr in groups
    )
    original = FakeLoadBalancer.get_cfn_attribute

    def balancer_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name in balancers:
            return balancers[attribute_name](self)
        return original(self, attribute_name)

    FakeLoadBalancer.get_cfn_attribute = _mark(  # type: ignore[method-assign]
        balancer_attribute, original
    )
