"""The stack engine: CloudFormation's stack operations, one resource at a time, on top of
moto's resource models.

moto 5.2.5 builds a whole stack inside ``CreateStack`` through a lazy ``ResourceMap``: a
resource is made when something first reads it, errors escape as the request's own exception
(a 500 the SDK cannot parse, a half-registered stack that breaks every later read), types it
does not model are skipped in silence, and the only events are the stack's own. The engine
keeps moto's models and its template functions (``clean_json``, conditions, parameters) and
takes over the order and the bookkeeping:

    CreateStack / ExecuteChangeSet(CREATE)
      -> template.parse + expand_transforms (SAM) -> moto's Stack (parameters, conditions)
      -> StackRun.create, in a worker thread that carries the request's context; the
         request waits for it up to BUDGET seconds (most stacks are done by then, so moto's
         own tests still read CREATE_COMPLETE right away; a slow custom resource no longer
         holds the client past its read timeout)
           for each resource in template.creation_order (Ref, GetAtt, Sub, DependsOn):
             CREATE_IN_PROGRESS
             moto model          moto's parse_and_create_resource (dynamic references
                                 resolved after moto's intrinsic functions)
             AWS::CloudFormation::Stack   a child StackRun, synchronous; its failure is the
                                 parent's "Embedded stack ... was not successfully created"
             Custom::* / AWS::CloudFormation::CustomResource
                                 ``custom``: the request, the answer, the wait
             anything else       ``stubs.Stub`` (journaled "stubbed"), or CREATE_FAILED
                                 "AWS::X::Y is not emulated by moto 5.2.5" in strict mode
             CREATE_COMPLETE, or CREATE_FAILED with "<LogicalId> (<Type>): <error>"
      -> outputs and exports, computed once the resources are complete
      -> CREATE_COMPLETE; or CREATE_FAILED (OnFailure DO_NOTHING / DisableRollback), or
         ROLLBACK_IN_PROGRESS -> each created resource deleted -> ROLLBACK_COMPLETE
         (OnFailure DELETE: then deleted)
    UpdateStack / ExecuteChangeSet(UPDATE) -> StackRun.update: a new ResourceMap for the new
         template; unchanged resources carried over, added ones created, changed ones
         updated (moto's update, else replaced), removed ones deleted
    DeleteStack -> StackRun.delete: resources deleted in reverse order, with events

Every state change is moto's own (``Stack.status``, ``Stack.events``, the ResourceMap), so
every read (DescribeStacks, DescribeStackEvents, DescribeStackResources, ListStackResources,
GetTemplate) tells the same story. The journal gets a ``cfn`` record when a stack operation
starts and ends and for every resource that is not emulated (``summary`` reads them).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from motobox.emulation.cloudformation import stubs, template
from motobox.emulation.context import RequestInfo, carried, current

#: Seconds a stack operation's request waits for the operation before answering.
BUDGET = 3.0

NESTED = "AWS::CloudFormation::Stack"
CUSTOM = "AWS::CloudFormation::CustomResource"
#: Types CloudFormation itself handles with no service behind them.
INTERNAL = frozenset({"AWS::CDK::Metadata"})
#: Types moto knows by name but ignores on purpose (``parsing.NULL_MODELS``).
WAIT_TYPES = frozenset(
    {"AWS::CloudFormation::WaitCondition", "AWS::CloudFormation::WaitConditionHandle"}
)
#: Properties moto 5.2.5's model of a type reads never (the resource is made without them),
#: or keeps without acting on (a rule's schedule never fires): a template that gives one gets
#: the part reported as not emulated, like a CreationPolicy.
#: An empty value (the Serverless Framework writes ``Policy: ""`` on every REST API) asks for
#: nothing and is not reported.
UNREAD_PROPERTIES: dict[str, tuple[str, ...]] = {
    # fixes.fix_rest_api_body reads Name, Description, EndpointConfiguration and the Body.
    "AWS::ApiGateway::RestApi": ("Policy", "ApiKeySourceType"),
    # EventBridge rules with a schedule never fire (rules matched by PutEvents do deliver).
    "AWS::Events::Rule": ("ScheduleExpression",),
    # moto reads BucketName, BucketEncryption and Tags; fixes.fix_s3_bucket_properties
    # NotificationConfiguration, VersioningConfiguration, LifecycleConfiguration and
    # PublicAccessBlockConfiguration.
    "AWS::S3::Bucket": (
        "AccelerateConfiguration",
        "AnalyticsConfigurations",
        "CorsConfiguration",
        "IntelligentTieringConfigurations",
        "InventoryConfigurations",
        "LoggingConfiguration",
        "MetricsConfigurations",
        "ObjectLockConfiguration",
        "ObjectLockEnabled",
        "OwnershipControls",
        "ReplicationConfiguration",
        "WebsiteConfiguration",
    ),
}


def unread_properties(type_name: str, properties: Any) -> list[str]:
    """The properties of ``properties`` that moto's model of ``type_name`` never reads."""
    if not isinstance(properties, Mapping):
        return []
    return [
        name
        for name in UNREAD_PROPERTIES.get(type_name, ())
        if properties.get(name) not in (None, "", {}, [])
    ]


def _lambda_version_arn(
    instance: Any, properties: Mapping[str, Any], account: str, region: str
) -> str:
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[account][region]
    function = backend.get_function(str(properties["FunctionName"]), str(instance.version))
    return str(function.function_arn)


#: CloudFormation's physical id (Ref) of types whose moto 5.2.5 model has no
#: ``physical_resource_id``: (model, resolved properties, account, region) -> value.
PHYSICAL_IDS: dict[str, Callable[[Any, Mapping[str, Any], str, str], Any]] = {
    "AWS::ApiGateway::Deployment": lambda m, p, a, r: m.id,
    "AWS::EFS::AccessPoint": lambda m, p, a, r: m.access_point_id,
    "AWS::Events::EventBus": lambda m, p, a, r: m.name,
    "AWS::RDS::DBSubnetGroup": lambda m, p, a, r: m.name,
    "AWS::RDS::DBSecurityGroup": lambda m, p, a, r: m.name,
    "AWS::RDS::DBParameterGroup": lambda m, p, a, r: m.name,
    "AWS::Lambda::Version": _lambda_version_arn,
}


def moto_version() -> str:
    import moto

    return str(moto.__version__)


class ResourceFailure(Exception):
    """A resource that could not be made; the message is the event's reason."""


class NestedFailure(ResourceFailure):
    """A child stack that did not complete; the parent's rollback deletes it."""

    def __init__(self, message: str, child: Any) -> None:
        super().__init__(message)
        self.child = child


class NotEmulated(ResourceFailure):
    """Strict mode: a resource (or part of one) moto does not emulate."""


# -- journal -------------------------------------------------------------------------------


def journal(info: RequestInfo, record: dict[str, Any]) -> None:
    if info.cloud is not None:
        info.cloud.journal.append({"kind": "cfn", **record})


def strict(info: RequestInfo) -> bool:
    return bool(info.cloud is not None and info.cloud.strict)


# -- what a run keeps per resource -----------------------------------------------------------


class Failed:
    """A resource whose creation failed: listed by DescribeStackResources as CloudFormation
    lists it (no physical id), never returned by ``Ref``."""

    def __init__(self, type_name: str, logical_id: str, child: Any = None) -> None:
        self.cf_resource_type = type_name
        self.logical_resource_id = logical_id
        self.physical_resource_id = ""
        #: A child stack that failed: deleted with this resource.
        self.child = child

    def is_created(self) -> bool:
        return False


class NestedStack:
    """A child stack as a resource of its parent: ``Ref`` gives the child's stack id,
    ``Fn::GetAtt Child.Outputs.Name`` one of its outputs."""

    cf_resource_type = NESTED

    def __init__(self, logical_id: str, child: Any) -> None:
        self.logical_resource_id = logical_id
        self.child = child

    @property
    def physical_resource_id(self) -> str:
        return str(self.child.stack_id)

    def get_cfn_attribute(self, name: str) -> Any:
        if name.startswith("Outputs."):
            key = name.split(".", 1)[1]
            for output in self.child.outputs or []:
                if output["OutputKey"] == key:
                    return output["OutputValue"]
            from moto.cloudformation.exceptions import ValidationError

            raise ValidationError(
                message=f"Template error: stack {self.child.name} has no output {key}"
            )
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True


class StackRun:
    """The operations of one stack, one at a time, in moto's own state."""

    def __init__(
        self,
        backend: Any,
        stack: Any,
        *,
        on_failure: str = "ROLLBACK",
        parent: StackRun | None = None,
        info: RequestInfo | None = None,
    ) -> None:
        self.backend = backend
        self.stack = stack
        self.on_failure = on_failure
        self.parent = parent
        self.info = info or current()
        self.account = stack.account_id
        self.region = stack.region_name
        #: logical id -> resource instance (moto's model, Stub, NestedStack, Failed, ...), in
        #: the order they were made.
        self.made: dict[str, Any] = {}
        self.outputs: list[dict[str, Any]] | None = None
        self.exports: list[Any] = []
        self.failure: str | None = None
        self.worker: threading.Thread | None = None
        self.lock = threading.RLock()
        self._creating_thread: int | None = None
        stack.motobox = self
        stack.resource_map.motobox = self
        stack.disable_rollback = on_failure == "DO_NOTHING"
        if parent is not None:
            stack.parent_id = parent.stack.stack_id
            stack.root_id = getattr(parent.stack, "root_id", None) or parent.stack.stack_id

    # -- running -------------------------------------------------------------------------
    def start(self, work: Callable[[], None], *, wait: float | None) -> None:
        """Run ``work`` in a worker that carries this request's context, waiting up to
        ``wait`` seconds (None: run it here, to the end)."""
        if wait is None:
            self._guarded(work)
            return
        info = self.info

        def target() -> None:
            with carried(info):
                self._guarded(work)

        previous = self.worker
        if previous is not None and previous is not threading.current_thread():
            previous.join()
        self.worker = threading.Thread(target=target, name=f"cfn-{self.stack.name}", daemon=True)
        self.worker.start()
        self.worker.join(wait)

    def _guarded(self, work: Callable[[], None]) -> None:
        with self.lock:
            try:
                work()
            except Exception as exc:  # never leave a stack IN_PROGRESS
                self._internal_failure(exc)

    def _internal_failure(self, exc: Exception) -> None:
        status = str(self.stack.status)
        if not status.endswith("_IN_PROGRESS"):
            return
        reason = f"motobox could not finish {status}: {type(exc).__name__}: {exc}"
        final = {
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_IN_PROGRESS": "UPDATE_ROLLBACK_FAILED",
        }.get(status, status.replace("_IN_PROGRESS", "_FAILED"))
        self._stack_event(final, reason)
        self._finish(final, reason)

    # -- events --------------------------------------------------------------------------
    def _event(
        self,
        logical_id: str,
        type_name: str,
        status: str,
        reason: str | None = None,
        physical_id: str = "",
        properties: str | None = None,
    ) -> None:
        from moto.cloudformation.models import Event

        event = Event(
            stack_id=self.stack.stack_id,
            stack_name=self.stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id,
            resource_type=type_name,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=properties,
        )
        event.sendToSns(self.account, self.region, self.stack.notification_arns)
        self.stack.events.append(event)

    def _stack_event(self, status: str, reason: str | None = None) -> None:
        self.stack.status = status
        self.stack._add_stack_event(status, resource_status_reason=reason)

    def _begin(self, operation: str, status: str) -> None:
        self.stack.stack_status_reason = None
        self._stack_event(status, "User Initiated")
        self._journal_stack(operation=operation, status=status)

    def _journal_stack(self, **fields: Any) -> None:
        """A ``cfn`` record of this stack's start or end."""
        journal(
            self.info,
            {
                "event": "stack",
                "account": self.account,
                "region": self.region,
                "stack": self.stack.name,
                "stack_id": self.stack.stack_id,
                **fields,
            },
        )

    def _finish(self, status: str, reason: str | None = None) -> None:
        self.stack.status = status
        self.stack.stack_status_reason = reason
        if reason and ("FAILED" in status or "ROLLBACK" in status):
            self.failure = self.failure or reason
        self._journal_stack(
            status=status,
            resources=self._resource_count(),
            **({"reason": reason} if reason else {}),
        )

    def _resource_count(self) -> int:
        """The resources the stack has: the template's, less those whose condition is
        false."""
        resources = (self.stack.template_dict or {}).get("Resources") or {}
        try:
            return sum(1 for r in resources.values() if self._active(r))
        except Exception:  # conditions that cannot be evaluated: the stack failed on them
            return len(resources)

    # -- creating ------------------------------------------------------------------------
    @property
    def resource_map(self) -> Any:
        return self.stack.resource_map

    def create(self) -> None:
        """CREATE_IN_PROGRESS (already written) -> every resource -> the stack's end state."""
        self._creating_thread = threading.get_ident()
        try:
            order = template.creation_order(self.stack.template_dict)
            failed = None
            for logical_id in order:
                if logical_id in self.made:
                    continue
                if not self._create_one(logical_id):
                    failed = logical_id
                    break
            if failed is None:
                problem = self._complete_outputs()
                if problem is None:
                    self._stack_event("CREATE_COMPLETE")
                    self._finish("CREATE_COMPLETE")
                    return
                self._fail_creation([], problem)
                return
            self._fail_creation([failed], None)
        finally:
            self._creating_thread = None

    def creating_here(self) -> bool:
        return self._creating_thread == threading.get_ident()

    def _resource_json(self, logical_id: str) -> dict[str, Any]:
        resources = self.resource_map._resource_json_map
        return dict(resources[logical_id])

    def _active(self, resource_json: Mapping[str, Any]) -> bool:
        condition = resource_json.get("Condition")
        return not condition or bool(self.resource_map.lazy_condition_map[condition])

    def _create_one(self, logical_id: str) -> bool:
        """Make one resource with its events; False when it failed."""
        resource_json = self._resource_json(logical_id)
        if not self._active(resource_json):
            return True
        type_name = str(resource_json.get("Type", ""))
        shown = self._shown_properties(resource_json)
        self._event(logical_id, type_name, "CREATE_IN_PROGRESS", properties=shown)
        try:
            instance = self._make(logical_id, type_name, resource_json)
        except (ResourceFailure, template.DynamicReferenceError) as exc:
            return self._failed(
                logical_id, type_name, str(exc), getattr(exc, "child", None), properties=shown
            )
        except Exception as exc:
            return self._failed(
                logical_id, type_name, _reason(logical_id, type_name, exc), properties=shown
            )
        self._created(logical_id, instance)
        self._event(
            logical_id,
            type_name,
            "CREATE_COMPLETE",
            physical_id=_physical_id(instance),
            properties=shown,
        )
        return True

    def _shown_properties(self, resource_json: Mapping[str, Any]) -> str | None:
        """The event's ``ResourceProperties``: the resource's properties, intrinsic functions
        resolved (dynamic references are left as written), as JSON; None when they cannot be
        resolved yet. taskcat reads a nested stack's ``TemplateURL`` from it."""
        from moto.cloudformation.parsing import clean_json

        try:
            cleaned = clean_json(
                copy.deepcopy(resource_json.get("Properties") or {}), self.resource_map
            )
            text = json.dumps(cleaned, default=str, separators=(",", ":"))
        except Exception:
            return None
        for secret in self._no_echo_values():  # as CloudFormation masks them: ****
            text = text.replace(json.dumps(secret)[1:-1], "****")
        return text

    def _no_echo_values(self) -> list[str]:
        declared = (getattr(self.stack, "template_dict", None) or {}).get("Parameters") or {}
        values = getattr(self.resource_map, "resolved_parameters", None) or {}
        return [
            str(values[name])
            for name, spec in declared.items()
            if isinstance(spec, dict)
            and str(spec.get("NoEcho", "")).lower() == "true"
            and values.get(name) not in (None, "")
        ]

    def _created(self, logical_id: str, instance: Any) -> None:
        instance.motobox_status = "CREATE_COMPLETE"
        self.made[logical_id] = instance
        self.resource_map._parsed_resources[logical_id] = instance
        self._tag(logical_id, instance)

    def _tag(self, logical_id: str, instance: Any) -> None:
        """The tags CloudFormation puts on what it makes: the stack's own and
        ``aws:cloudformation:stack-name``, ``stack-id``, ``logical-id`` (as moto's stack
        creation tags EC2 resources; SSM ``SendCommand`` targets instances by them)."""
        from moto.ec2.models import ec2_backends
        from moto.ec2.models.core import TaggedEC2Resource

        if not isinstance(instance, TaggedEC2Resource):
            return
        tags = {
            **(self.stack.tags or {}),
            "aws:cloudformation:stack-name": self.stack.name,
            "aws:cloudformation:stack-id": self.stack.stack_id,
            "aws:cloudformation:logical-id": logical_id,
        }
        made: Any = instance  # EC2 models name their id differently
        physical_id = getattr(made, "physical_resource_id", None) or made.id
        ec2_backends[self.account][self.region].create_tags([physical_id], tags)

    def _failed(
        self,
        logical_id: str,
        type_name: str,
        reason: str,
        child: Any = None,
        properties: str | None = None,
    ) -> bool:
        placeholder = Failed(type_name, logical_id, child)
        placeholder.motobox_status = "CREATE_FAILED"  # type: ignore[attr-defined]
        placeholder.motobox_status_reason = reason  # type: ignore[attr-defined]
        self.made[logical_id] = placeholder
        # A nested stack that failed exists: its event names it, as CloudFormation's does.
        physical_id = str(getattr(child, "stack_id", "") or "")
        self._event(
            logical_id, type_name, "CREATE_FAILED", reason, physical_id, properties=properties
        )
        return False

    def _make(self, logical_id: str, type_name: str, resource_json: dict[str, Any]) -> Any:
        from moto.cloudformation.parsing import get_model_map

        if type_name == NESTED:
            return self._make_nested(logical_id, resource_json)
        if type_name.startswith("Custom::") or type_name == CUSTOM:
            from motobox.emulation.cloudformation import custom

            return custom.create(self, logical_id, type_name, self._properties(resource_json))
        if type_name in INTERNAL:
            stub = self._stub(logical_id, type_name, resource_json)
            stub.emulated = True
            return stub
        if type_name in WAIT_TYPES or type_name not in get_model_map():
            return self._not_emulated(logical_id, type_name, resource_json)
        instance = self._make_with_moto(logical_id, resource_json)
        self._give_physical_id(logical_id, type_name, resource_json, instance)
        if "CreationPolicy" in resource_json:
            self._note_not_emulated(logical_id, type_name, "CreationPolicy")
        for name in unread_properties(type_name, resource_json.get("Properties")):
            self._note_not_emulated(logical_id, type_name, name)
        return instance

    def _give_physical_id(
        self, logical_id: str, type_name: str, resource_json: Mapping[str, Any], instance: Any
    ) -> None:
        """A physical id (what ``Ref`` returns) for a model moto 5.2.5 gives none: moto's
        ``Ref`` then returned the model object itself, so an output read
        "<moto.events.models.EventBus object at 0x7f...>", a DBInstance got that text as
        its DBSubnetGroupName, and ListStackResources showed "". CloudFormation's value where
        the model holds it (``PHYSICAL_IDS``); else a placeholder shaped by the type's schema
        (a Lambda::Permission's generated name, as CloudFormation makes one)."""
        try:
            if getattr(instance, "physical_resource_id", None):
                return
        except Exception:
            pass
        own = PHYSICAL_IDS.get(type_name)
        value = None
        if own is not None:
            try:
                value = own(instance, self._properties(resource_json), self.account, self.region)
            except Exception:
                value = None
        if not value:  # the resource is made; only its id is a placeholder, as a stub's
            value = self._stub(logical_id, type_name, resource_json).physical_resource_id
        try:
            instance.physical_resource_id = str(value)
        except AttributeError:  # a read-only property that answered nothing
            pass

    def _make_with_moto(self, logical_id: str, resource_json: dict[str, Any]) -> Any:
        from moto.cloudformation.parsing import parse_and_create_resource
        from moto.ec2.models import ec2_backends
        from moto.ec2.models.core import TaggedEC2Resource

        instance = parse_and_create_resource(
            logical_id, resource_json, self.resource_map, self.account, self.region
        )
        if instance is None:
            raise ResourceFailure(
                f"{logical_id} ({resource_json.get('Type')}): moto {moto_version()} made "
                "no resource"
            )
        if isinstance(instance, TaggedEC2Resource):
            tags = dict(self.resource_map.tags)
            tags["aws:cloudformation:logical-id"] = logical_id
            backend = ec2_backends[self.account][self.region]
            backend.create_tags([instance.physical_resource_id], tags)
        return instance

    def _properties(self, resource_json: Mapping[str, Any]) -> dict[str, Any]:
        """The resource's properties with intrinsic functions and dynamic references
        resolved."""
        from moto.cloudformation.parsing import clean_json

        cleaned = clean_json(
            copy.deepcopy(resource_json.get("Properties") or {}), self.resource_map
        )
        resolved = template.resolve_dynamic(cleaned, self.account, self.region)
        return dict(resolved) if isinstance(resolved, dict) else {}

    def _stub(self, logical_id: str, type_name: str, resource_json: Mapping[str, Any]) -> Any:
        return stubs.Stub(
            type_name,
            logical_id,
            self._properties(resource_json),
            stack_name=self.stack.name,
            account=self.account,
            region=self.region,
        )

    def _not_emulated(
        self, logical_id: str, type_name: str, resource_json: Mapping[str, Any]
    ) -> Any:
        message = f"{type_name} is not emulated by moto {moto_version()}"
        if strict(self.info):
            self._journal_resource(logical_id, type_name, "refused")
            raise NotEmulated(message)
        stub = self._stub(logical_id, type_name, resource_json)
        self._journal_resource(logical_id, type_name, "stubbed")
        return stub

    def _note_not_emulated(self, logical_id: str, type_name: str, part: str) -> None:
        if strict(self.info):
            self._journal_resource(logical_id, type_name, "refused", part=part)
            why = {
                "CreationPolicy": ": no signal can come",
                "ScheduleExpression": ": the rule never fires on its schedule",
            }.get(part, "")
            raise NotEmulated(
                f"{logical_id} ({type_name}): its {part} is not emulated by moto "
                f"{moto_version()}{why}"
            )
        self._journal_resource(logical_id, type_name, "stubbed", part=part)

    def _journal_resource(
        self, logical_id: str, type_name: str, emulation: str, **extra: Any
    ) -> None:
        journal(
            self.info,
            {
                "event": "resource",
                "account": self.account,
                "region": self.region,
                "stack": self.stack.name,
                "stack_id": self.stack.stack_id,
                "logical_id": logical_id,
                "type": type_name,
                "emulation": emulation,
                **extra,
            },
        )

    def _make_nested(self, logical_id: str, resource_json: Mapping[str, Any]) -> Any:
        from moto.cloudformation.parsing import generate_resource_name

        properties = self._properties(resource_json)
        url = properties.get("TemplateURL")
        if not url:
            raise ResourceFailure(f"{logical_id} ({NESTED}): TemplateURL is required")
        body = template_from_url(str(url), self.account, self.region)
        parameters = {k: _as_parameter(v) for k, v in (properties.get("Parameters") or {}).items()}
        name = generate_resource_name(NESTED, self.stack.name, logical_id)
        child = create_stack(
            self.backend,
            name=name,
            template=body,
            parameters=parameters,
            notification_arns=properties.get("NotificationARNs") or self.stack.notification_arns,
            tags=dict(self.stack.tags or {}),
            on_failure=self.on_failure,
            parent=self,
        )
        if child.status != "CREATE_COMPLETE":
            run: StackRun = child.motobox
            raise NestedFailure(
                f"Embedded stack {child.stack_id} was not successfully created: "
                f"{run.failure or child.stack_status_reason}",
                child,
            )
        return NestedStack(logical_id, child)

    def _complete_outputs(self) -> str | None:
        """Outputs and exports, once every resource is made; a problem's words, or None."""
        from moto.cloudformation.models import Stack

        assert isinstance(self.stack, Stack)
        previous = self.exports
        try:
            exports = list(_ORIGINAL_EXPORTS(self.stack)) if _ORIGINAL_EXPORTS else []
            # moto's outputs name their export from the stack's exports: this run's, now.
            self.exports = exports
            outputs = _ORIGINAL_OUTPUTS(self.stack) if _ORIGINAL_OUTPUTS else None
        except Exception as exc:
            self.exports = previous
            return f"Outputs: {type(exc).__name__}: {exc}"
        for export in exports:
            other = self.backend.exports.get(export.name)
            if other is not None and other.exporting_stack_id != self.stack.stack_id:
                self.exports = previous
                owner = _stack_name_of(self.backend, other.exporting_stack_id)
                return f"Export with name {export.name} is already exported by stack {owner}"
        for old in previous:
            self.backend.exports.pop(old.name, None)
        for export in exports:
            self.backend.exports[export.name] = export
        self.outputs = outputs
        return None

    def _fail_creation(self, failed: list[str], problem: str | None) -> None:
        if problem is not None:
            reason = problem
        else:
            reason = f"The following resource(s) failed to create: [{', '.join(failed)}]. "
        self.failure = reason
        if self.on_failure == "DO_NOTHING":
            self._stack_event("CREATE_FAILED", reason)
            self._finish("CREATE_FAILED", reason)
            return
        self._stack_event(
            "ROLLBACK_IN_PROGRESS",
            reason + ("Rollback requested by user." if problem is None else ""),
        )
        if not self._deleted_all("ROLLBACK_FAILED"):
            return
        self._stack_event("ROLLBACK_COMPLETE")
        self._finish("ROLLBACK_COMPLETE", reason)
        if self.on_failure == "DELETE":
            self._delete_stack()

    # -- deleting ------------------------------------------------------------------------
    def _deleted_all(self, failed_status: str) -> bool:
        """Delete every resource; when some would not go, end the stack ``failed_status``
        with CloudFormation's words and say so."""
        problems = self._delete_resources()
        if problems:
            why = f"The following resource(s) failed to delete: [{', '.join(problems)}]. "
            self._stack_event(failed_status, why)
            self._finish(failed_status, why)
        return not problems

    def delete(self) -> None:
        """DeleteStack: every resource in reverse order, then the stack."""
        self._begin("delete", "DELETE_IN_PROGRESS")
        self._delete_stack(begun=True)

    def _delete_stack(self, *, begun: bool = False) -> None:
        if not begun:
            self._stack_event("DELETE_IN_PROGRESS", "User Initiated")
        in_use = _imported(self.backend, [e.name for e in self.exports], self.stack.stack_id)
        if in_use is not None:
            why = f"Export {in_use[0]} cannot be deleted as it is in use by {in_use[1]}"
            self._stack_event("DELETE_FAILED", why)
            self._finish("DELETE_FAILED", why)
            return
        if not self._deleted_all("DELETE_FAILED"):
            return
        self._stack_event("DELETE_COMPLETE")
        for export in self.exports:
            self.backend.exports.pop(export.name, None)
        self.exports = []
        self.backend.stacks.pop(self.stack.stack_id, None)
        self.backend.deleted_stacks[self.stack.stack_id] = self.stack
        self._finish("DELETE_COMPLETE")

    def _delete_resources(self) -> list[str]:
        """Delete what was made, newest first; the logical ids that failed to delete."""
        problems = []
        resources = self.resource_map._resource_json_map
        for logical_id in reversed(list(self.made)):
            instance = self.made[logical_id]
            resource_json = resources.get(logical_id) or {"Type": instance.cf_resource_type}
            type_name = str(resource_json.get("Type", ""))
            physical = _physical_id(instance)
            if resource_json.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate") and not (
                isinstance(instance, Failed)
            ):
                self._event(logical_id, type_name, "DELETE_SKIPPED", physical_id=physical)
                self.made.pop(logical_id)
                continue
            self._event(logical_id, type_name, "DELETE_IN_PROGRESS", physical_id=physical)
            try:
                self._delete_instance(logical_id, instance, resource_json)
            except Exception as exc:
                reason = (
                    str(exc)
                    if isinstance(exc, ResourceFailure)
                    else _reason(logical_id, type_name, exc)
                )
                instance.motobox_status = "DELETE_FAILED"
                instance.motobox_status_reason = reason
                self._event(logical_id, type_name, "DELETE_FAILED", reason, physical)
                problems.append(logical_id)
                continue
            self._event(logical_id, type_name, "DELETE_COMPLETE", physical_id=physical)
            self.made.pop(logical_id)
            self.resource_map._parsed_resources.pop(logical_id, None)
        return problems

    def _delete_instance(self, logical_id: str, instance: Any, resource_json: Any) -> None:
        if isinstance(instance, Failed) and instance.child is not None:
            instance = NestedStack(logical_id, instance.child)
        if isinstance(instance, Failed | stubs.Stub):
            return
        if isinstance(instance, NestedStack):
            child_run: StackRun = instance.child.motobox
            if instance.child.stack_id in self.backend.stacks:
                child_run.start(child_run.delete, wait=None)
            if instance.child.status == "DELETE_FAILED":
                raise ResourceFailure(
                    f"Embedded stack {instance.child.stack_id} was not successfully deleted: "
                    f"{instance.child.stack_status_reason}"
                )
            return
        from motobox.emulation.cloudformation import custom

        if isinstance(instance, custom.CustomResource):
            custom.delete(self, instance)
            return
        type_name = str(resource_json.get("Type", ""))
        if type_name in DELETERS:
            DELETERS[type_name](instance, self.account, self.region)
            return
        if not _moto_deletes(instance):
            # moto's model has neither delete() nor its own delete_from_cloudformation_json:
            # moto's _delete_resource would "succeed" and leave the resource in place.
            self._note_not_emulated(logical_id, type_name, "deletion")
            return
        self.resource_map._delete_resource(instance, resource_json)

    # -- updating ------------------------------------------------------------------------
    def update(
        self,
        new_template: dict[str, Any],
        parameters: dict[str, Any],
        body: Any,
        *,
        begun: bool = False,
    ) -> None:
        """UpdateStack / ExecuteChangeSet(UPDATE): the new template, resource by resource."""
        from moto.cloudformation.parsing import OutputMap, ResourceMap

        if not begun:
            self._begin("update", "UPDATE_IN_PROGRESS")
        stack = self.stack
        old_map, old_template, old_made = stack.resource_map, stack.template_dict, dict(self.made)
        new_map = ResourceMap(
            stack.stack_id,
            stack.name,
            parameters,
            stack.tags,
            region_name=self.region,
            account_id=self.account,
            template=new_template,
            cross_stack_resources=self.backend.exports,
        )
        new_map.load()
        new_map._template = new_template
        new_map._resource_json_map = new_template.get("Resources") or {}
        new_map.motobox = self  # type: ignore[attr-defined]
        changes = diff(self, new_template, parameters, new_map)
        stack.resource_map = new_map
        stack.template_dict = new_template
        self.made = {}
        failed = None
        added: list[str] = []
        self._creating_thread = threading.get_ident()
        try:
            for logical_id in template.creation_order(new_template):
                action = changes.get(logical_id)
                resource_json = dict(new_map._resource_json_map[logical_id])
                if not self._active(resource_json):
                    continue
                if action is None and logical_id in old_made:
                    self._created(logical_id, old_made[logical_id])
                    continue
                if action == "Modify" and logical_id in old_made:
                    if not self._update_one(logical_id, resource_json, old_made[logical_id]):
                        failed = logical_id
                        break
                    continue
                added.append(logical_id)
                if not self._create_one(logical_id):
                    failed = logical_id
                    break
        finally:
            self._creating_thread = None
        if failed is None:
            stack.output_map = OutputMap(new_map, new_template, stack.stack_id)
            problem = self._complete_outputs()
            if problem is None:
                removed = {k: v for k, v in old_made.items() if k not in self.made}
                self._stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
                kept_made = self.made
                self.made = removed
                stack.resource_map = old_map
                self._delete_resources()
                stack.resource_map = new_map
                self.made = kept_made
                stack.template = body
                stack.parameters = parameters
                self._stack_event("UPDATE_COMPLETE")
                self._finish("UPDATE_COMPLETE")
                return
            reason = problem
        else:
            reason = f"The following resource(s) failed to update: [{failed}]. "
        if self.on_failure == "DO_NOTHING":
            self._stack_event("UPDATE_FAILED", reason)
            self._finish("UPDATE_FAILED", reason)
            return
        self._stack_event("UPDATE_ROLLBACK_IN_PROGRESS", reason)
        # What was added goes; changed resources keep moto's new state (see README, Limits).
        new_only = {k: v for k, v in self.made.items() if k in added}
        self.made = new_only
        self._delete_resources()
        stack.resource_map = old_map
        stack.template_dict = old_template
        self.made = old_made
        stack.output_map = OutputMap(old_map, old_template, stack.stack_id)
        self._stack_event("UPDATE_ROLLBACK_COMPLETE")
        self._finish("UPDATE_ROLLBACK_COMPLETE", reason)

    def _update_one(self, logical_id: str, resource_json: dict[str, Any], old: Any) -> bool:
        from moto.cloudformation.parsing import get_model_map, parse_and_update_resource

        type_name = str(resource_json.get("Type", ""))
        self._event(logical_id, type_name, "UPDATE_IN_PROGRESS", physical_id=_physical_id(old))
        self.resource_map._parsed_resources[logical_id] = old
        try:
            if isinstance(old, stubs.Stub):
                instance = self._stub(logical_id, type_name, resource_json)
                instance.emulated = old.emulated
            elif isinstance(old, NestedStack):
                instance = self._update_nested(logical_id, resource_json, old)
            elif type_name.startswith("Custom::") or type_name == CUSTOM:
                from motobox.emulation.cloudformation import custom

                instance = custom.update(self, old, self._properties(resource_json))
            elif type_name in get_model_map():
                model = get_model_map()[type_name]
                updatable = not hasattr(
                    model.update_from_cloudformation_json, "__isabstractmethod__"
                )
                if updatable:
                    instance = parse_and_update_resource(
                        logical_id, resource_json, self.resource_map, self.account, self.region
                    )
                else:  # moto cannot update it: replace it, as CloudFormation would
                    self.resource_map._delete_resource(old, resource_json)
                    self.resource_map._parsed_resources.pop(logical_id, None)
                    instance = self._make_with_moto(logical_id, resource_json)
                if instance is None:
                    raise ResourceFailure(
                        f"{logical_id} ({type_name}): moto {moto_version()} made no resource"
                    )
                for name in unread_properties(type_name, resource_json.get("Properties")):
                    self._note_not_emulated(logical_id, type_name, name)
            else:
                instance = self._not_emulated(logical_id, type_name, resource_json)
        except (ResourceFailure, template.DynamicReferenceError) as exc:
            self.resource_map._parsed_resources[logical_id] = old
            return self._update_failed(logical_id, type_name, str(exc), old)
        except Exception as exc:
            self.resource_map._parsed_resources[logical_id] = old
            return self._update_failed(
                logical_id, type_name, _reason(logical_id, type_name, exc), old
            )
        self._created(logical_id, instance)
        instance.motobox_status = "UPDATE_COMPLETE"
        self._event(logical_id, type_name, "UPDATE_COMPLETE", physical_id=_physical_id(instance))
        return True

    def _update_failed(self, logical_id: str, type_name: str, reason: str, old: Any) -> bool:
        self.made[logical_id] = old
        self._event(logical_id, type_name, "UPDATE_FAILED", reason, _physical_id(old))
        return False

    def _update_nested(
        self, logical_id: str, resource_json: Mapping[str, Any], old: NestedStack
    ) -> NestedStack:
        properties = self._properties(resource_json)
        body = template_from_url(str(properties.get("TemplateURL")), self.account, self.region)
        parameters = {k: _as_parameter(v) for k, v in (properties.get("Parameters") or {}).items()}
        child = old.child
        run: StackRun = child.motobox
        processed = prepare(body, parameters, self.account, self.region)
        run.start(lambda: run.update(processed, parameters, body), wait=None)
        if child.status != "UPDATE_COMPLETE":
            raise ResourceFailure(
                f"Embedded stack {child.stack_id} was not successfully updated: "
                f"{child.stack_status_reason}"
            )
        return NestedStack(logical_id, child)


# -- helpers -------------------------------------------------------------------------------


def _imported(backend: Any, names: list[str], own_id: str) -> tuple[str, str] | None:
    """(an export of ``names``, the stack importing it) when another live stack's template
    has ``Fn::ImportValue`` of it: CloudFormation refuses to delete an export in use."""
    if not names:
        return None
    wanted = set(names)

    def found(node: Any) -> str | None:
        if isinstance(node, dict):
            name = node.get("Fn::ImportValue")
            if isinstance(name, str) and name in wanted:
                return name
            nodes = list(node.values())
        elif isinstance(node, list):
            nodes = node
        else:
            return None
        for value in nodes:
            hit = found(value)
            if hit is not None:
                return hit
        return None

    for stack in list(backend.stacks.values()):
        if stack.stack_id == own_id or str(stack.status) == "DELETE_COMPLETE":
            continue
        hit = found(getattr(stack, "template_dict", None) or {})
        if hit is not None:
            return hit, stack.name
    return None


def _moto_deletes(instance: Any) -> bool:
    """Whether moto's model of ``instance`` deletes it (``delete`` or its own
    ``delete_from_cloudformation_json``; the base class's does nothing)."""
    from moto.core.common_models import CloudFormationModel

    if callable(getattr(instance, "delete", None)):
        return True
    own = getattr(type(instance), "delete_from_cloudformation_json", None)
    base = CloudFormationModel.delete_from_cloudformation_json
    return getattr(own, "__func__", own) is not getattr(base, "__func__", base)


def _delete_rest_api(instance: Any, account: str, region: str) -> None:
    from moto.apigateway.models import apigateway_backends

    apigateway_backends[account][region].delete_rest_api(instance.id)


def _ecs(account: str, region: str) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[account][region]


def _delete_hosted_zone(instance: Any, account: str, region: str) -> None:
    from moto.route53.models import route53_backends

    route53_backends[account]["global"].delete_hosted_zone(instance.id)


def _elbv2(account: str, region: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account][region]


def _delete_bucket(instance: Any, account: str, region: str) -> None:
    """moto 5.2.5 ``FakeBucket.delete_from_cloudformation_json`` calls ``delete_bucket``, which
    keeps a bucket that holds objects and says nothing: DeleteStack said DELETE_COMPLETE and
    the bucket stayed. CloudFormation fails the resource (and the stack) with S3's error; a
    bucket already gone is deleted."""
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    backend = s3_backends[account][stubs.partition_of(region)]
    try:
        bucket = backend.get_bucket(instance.name)
    except MissingBucket:
        return
    if bucket.keys:
        raise ResourceFailure(
            'Resource handler returned message: "The bucket you tried to delete is not empty '
            '(Service: S3, Status Code: 409)" (HandlerErrorCode: GeneralServiceException)'
        )
    backend.delete_bucket(instance.name)


#: Deletion of types whose moto model does not delete itself (DeleteStack left them).
DELETERS: dict[str, Callable[[Any, str, str], None]] = {
    "AWS::S3::Bucket": _delete_bucket,
    "AWS::ApiGateway::RestApi": _delete_rest_api,
    # methods, resources and deployments go with their API (deleted after them)
    "AWS::ApiGateway::Method": lambda instance, account, region: None,
    "AWS::ApiGateway::Resource": lambda instance, account, region: None,
    "AWS::ApiGateway::Deployment": lambda instance, account, region: None,
    "AWS::ECS::Cluster": lambda i, a, r: _ecs(a, r).delete_cluster(i.arn),
    "AWS::ECS::TaskDefinition": lambda i, a, r: _ecs(a, r).deregister_task_definition(i.arn),
    "AWS::ECS::Service": lambda i, a, r: _ecs(a, r).delete_service(i.cluster_name, i.name, True),
    "AWS::Route53::HostedZone": _delete_hosted_zone,
    "AWS::ElasticLoadBalancingV2::TargetGroup": lambda i, a, r: _elbv2(a, r).delete_target_group(
        i.arn
    ),
    "AWS::ElasticLoadBalancingV2::Listener": lambda i, a, r: _elbv2(a, r).delete_listener(i.arn),
    "AWS::ElasticLoadBalancingV2::ListenerRule": lambda i, a, r: _elbv2(a, r).delete_rule(i.arn),
}


def _reason(logical_id: str, type_name: str, exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    code = _service_error_code(exc)
    if code is not None:  # the service refused, as AWS would: not a failure of moto
        return f"{logical_id} ({type_name}): {code}: {message}"
    return (
        f"{logical_id} ({type_name}): moto {moto_version()} failed: {type(exc).__name__}: {message}"
    )


def _service_error_code(exc: BaseException) -> str | None:
    """The AWS error code when ``exc`` is a client error moto models (a 4xx answer)."""
    from moto.core.exceptions import ServiceException, _RESTError

    if isinstance(exc, ServiceException):
        return str(exc.code)
    status = getattr(exc, "code", None)
    if isinstance(exc, _RESTError) and isinstance(status, int) and 400 <= status < 500:
        return str(getattr(exc, "error_type", "") or type(exc).__name__)
    return None


def _physical_id(instance: Any) -> str:
    try:
        value = getattr(instance, "physical_resource_id", "")
    except Exception:
        return ""
    return "" if value is None else str(value)


def _as_parameter(value: Any) -> Any:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _stack_name_of(backend: Any, stack_id: str) -> str:
    stack = backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)
    return str(stack.name) if stack is not None else stack_id


def template_from_url(url: str, account: str, region: str) -> str:
    """The body of a template in the cloud's S3: path-style (``s3.amazonaws.com/bucket/key``,
    ``http://127.0.0.1:PORT/bucket/key``, ``localhost``) or virtual-hosted
    (``bucket.s3.region.amazonaws.com/key``). moto's own reader takes the bucket of
    ``http://127.0.0.1:PORT/bucket/key`` to be ``127``."""
    from urllib.parse import unquote, urlsplit

    from moto.s3.models import s3_backends

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path).lstrip("/")
    path_style = (
        host.startswith("s3.")
        or host.startswith("s3-")
        or host in ("localhost", "s3.amazonaws.com")
        or host.replace(".", "").isdigit()
        or ":" in host
    )
    if path_style:
        bucket, _, key = path.partition("/")
    else:
        bucket, key = host.split(".s3", 1)[0], path
    backend = s3_backends[account][stubs.partition_of(region)]
    try:
        obj = backend.get_object(bucket, key)
    except Exception:
        obj = None
    if obj is None:
        raise ResourceFailure(f"TemplateURL must be a supported URL: S3 has no {url}")
    return str(obj.value.decode("utf-8"))


def prepare(body: Any, parameters: Mapping[str, Any], account: str, region: str) -> dict[str, Any]:
    """The processed template CloudFormation works from; raises moto's ValidationError."""
    from moto.cloudformation.exceptions import ValidationError

    try:
        parsed = template.parse(body)
        processed = template.expand_transforms(parsed, parameters, account, region)
        template.creation_order(processed)
    except template.TemplateError as exc:
        raise ValidationError(message=str(exc)) from None
    return processed


# -- moto's backend, as the engine runs it ---------------------------------------------------

_options = threading.local()


def creation_options(on_failure: str | None, disable_rollback: bool | None) -> None:
    """What CreateStack asked for on failure, for the backend call that follows in this
    thread (moto's response class does not pass it on)."""
    if disable_rollback:
        _options.on_failure = "DO_NOTHING"
    else:
        _options.on_failure = on_failure or "ROLLBACK"


def _take_on_failure() -> str:
    value = getattr(_options, "on_failure", None) or "ROLLBACK"
    _options.on_failure = None
    return str(value)


def create_stack(
    backend: Any,
    name: str,
    template: Any,
    parameters: dict[str, Any],
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
    enable_termination_protection: bool | None = False,
    timeout_in_mins: int | None = None,
    stack_policy_body: str | None = None,
    *,
    on_failure: str | None = None,
    parent: StackRun | None = None,
) -> Any:
    """``CloudFormationBackend.create_stack`` through the engine."""
    from moto.cloudformation.exceptions import AlreadyExistsException
    from moto.cloudformation.models import Stack
    from moto.cloudformation.utils import generate_stack_id

    if on_failure is None:
        on_failure = _take_on_failure()
    if name in [stack.name for stack in backend.stacks.values()]:
        raise AlreadyExistsException(f"Stack {name} already exists")
    processed = prepare(template, parameters, backend.account_id, backend.region_name)
    check_imports(processed, backend)
    stack = Stack(  # type: ignore[abstract]
        stack_id=generate_stack_id(name, backend.region_name, backend.account_id),
        name=name,
        template=processed,
        parameters=parameters,
        account_id=backend.account_id,
        region_name=backend.region_name,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
        cross_stack_resources=backend.exports,
        enable_termination_protection=enable_termination_protection,
        timeout_in_mins=timeout_in_mins,
        stack_policy_body=stack_policy_body,
    )
    stack.template = template if isinstance(template, str) else _dump(template)
    backend.stacks[stack.stack_id] = stack
    run = StackRun(backend, stack, on_failure=on_failure, parent=parent)
    run._begin("create", "CREATE_IN_PROGRESS")
    run.start(run.create, wait=None if parent is not None else BUDGET)
    return stack


def _dump(value: Any) -> str:
    import json

    return json.dumps(value)


def run_of(stack: Any) -> StackRun | None:
    run = getattr(stack, "motobox", None)
    return run if isinstance(run, StackRun) else None


def delete_stack(backend: Any, name_or_stack_id: str) -> None:
    """``CloudFormationBackend.delete_stack`` through the engine (stacks it did not make
    go to moto's own)."""
    stack = backend.stacks.get(name_or_stack_id)
    if stack is None:
        stack = next((s for s in backend.stacks.values() if s.name == name_or_stack_id), None)
    if stack is None:
        return
    run = run_of(stack)
    if run is None:
        _ORIGINAL_DELETE_STACK(backend, stack.stack_id)
        return
    if stack.status == "DELETE_IN_PROGRESS":
        return
    run.start(run.delete, wait=BUDGET)


def update_stack(
    backend: Any,
    name: str,
    template: str,
    role_arn: str | None,
    parameters: list[dict[str, Any]],
    tags: dict[str, str] | None,
) -> Any:
    """``CloudFormationBackend.update_stack`` through the engine."""
    stack = backend.get_stack(name)
    run = run_of(stack)
    if run is None:
        return _ORIGINAL_UPDATE_STACK(backend, name, template, role_arn, parameters, tags)
    resolved = backend._resolve_update_parameters(instance=stack, incoming_params=parameters)
    values = _with_defaults(stack, resolved)
    processed = prepare(template, values, backend.account_id, backend.region_name)
    check_parameters(stack, processed, values)
    check_imports(processed, backend)
    if role_arn:
        stack.role_arn = role_arn
    if tags is not None:
        stack.tags = tags
    run.on_failure = "DO_NOTHING" if _take_on_failure() == "DO_NOTHING" else run.on_failure
    run._begin("update", "UPDATE_IN_PROGRESS")
    run.start(lambda: run.update(processed, resolved, template, begun=True), wait=BUDGET)
    return stack


def check_parameters(stack: Any, template: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """The new template's parameters all have values, as UpdateStack checks before it answers
    (moto's ``MissingParameterError``, a ValidationError); not first in the worker."""
    from moto.cloudformation.parsing import ResourceMap

    probe = ResourceMap(
        stack.stack_id,
        stack.name,
        dict(values),
        {},
        stack.region_name,
        stack.account_id,
        dict(template),
        None,
    )
    probe.load_mapping()
    probe.load_parameters()


def check_imports(template: Mapping[str, Any], backend: Any) -> None:
    """Every ``Fn::ImportValue`` of a literal name names an export of the region, as
    CloudFormation checks when it accepts the stack: "No export named X found." is a
    ValidationError of CreateStack/UpdateStack, not a resource's failure."""
    from moto.cloudformation.exceptions import ExportNotFound

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            name = node.get("Fn::ImportValue")
            if isinstance(name, str) and name not in backend.exports:
                raise ExportNotFound(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: template.get(k) for k in ("Resources", "Outputs")})


def _with_defaults(stack: Any, parameters: Mapping[str, Any]) -> dict[str, Any]:
    return dict(parameters)


def diff(
    run: StackRun,
    new_template: Mapping[str, Any],
    parameters: Mapping[str, Any],
    new_map: Any = None,
) -> dict[str, str]:
    """Logical id -> ``Add``, ``Modify`` or ``Remove`` between the stack as made and
    ``new_template`` with ``parameters``: a resource whose definition changed, or that
    refers to a parameter whose value changed (a parameter-only update), is modified."""
    old_resources = (run.stack.template_dict or {}).get("Resources") or {}
    new_resources = new_template.get("Resources") or {}
    old_values = (
        dict(run.resource_map.resolved_parameters)
        if hasattr(run.resource_map, "resolved_parameters")
        else {}
    )
    if new_map is not None:
        new_values = dict(new_map.resolved_parameters)
    else:  # the template's defaults, then what the call gives
        declared = new_template.get("Parameters") or {}
        new_values = {k: v.get("Default") for k, v in declared.items() if isinstance(v, dict)}
        new_values.update(parameters)
    changed_parameters = {
        name
        for name in set(old_values) | set(new_values)
        if old_values.get(name) != new_values.get(name)
    }
    existing = set(run.made)
    changes: dict[str, str] = {}
    for logical_id, resource in new_resources.items():
        if logical_id not in old_resources or logical_id not in existing:
            changes[logical_id] = "Add"
        elif resource != old_resources[logical_id] or any(
            name in changed_parameters for name, _ in template.references(resource)
        ):
            changes[logical_id] = "Modify"
    for logical_id in old_resources:
        if logical_id not in new_resources and logical_id in existing:
            changes[logical_id] = "Remove"
    return changes


_ORIGINAL_OUTPUTS: Callable[[Any], Any] | None = None
_ORIGINAL_EXPORTS: Callable[[Any], Any] | None = None
_ORIGINAL_DELETE_STACK: Callable[..., Any] = lambda *a, **k: None  # noqa: E731
_ORIGINAL_UPDATE_STACK: Callable[..., Any] = lambda *a, **k: None  # noqa: E731


def wait_for(stack: Any, timeout: float = 30.0) -> None:
    """Wait until ``stack``'s current operation has ended (tests, change sets)."""
    run = run_of(stack)
    if run is None or run.worker is None:
        return
    deadline = time.monotonic() + timeout
    run.worker.join(max(0.0, deadline - time.monotonic()))
