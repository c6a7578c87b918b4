"""The AWS gateway: the WSGI app the program's SDK talks to, a stack of small layers.

    environ -> receive()     read the body (large ones stay spooled: ``LargeBody``), decode an
                             ``aws-chunked`` upload, identify the call from botocore's models
                             (``identify``), pick the account it acts in (``accounts_for``)
            -> Exchange      what every layer below sees: environ, body, call, account
            -> guarded(...)  an exception below becomes an ``InternalFailure`` in the call's
                             own protocol (every SDK raises it as a modelled error), never a
                             plain-text 500
            -> rules         the scenario (``scenario.rules.RuleEngine.wrap``): may answer
                             instead of the backend, change its answer, add latency
            -> backend       ``MotoBackend`` (moto's own WSGI dispatcher, in-process) or
                             ``RemoteBackend`` (an external moto server, ``--backend URL``)
            -> record()      one journal record per call, once the answer is known; for an
                             answer with a transport fault (``Answer.delivery``: a rule's
                             reset, hang, truncate or bandwidth) once the transport has
                             delivered it, with what the client got (``transport``)
            -> the answer, its Content-Length set; a fault goes to the transport in the
               environ (``transport.wsgi.DELIVERY``)

Each layer is a ``Backend``: a callable ``Exchange -> Answer``, composed in ``Gateway``. The
gateway buffers each answer (moto builds answers in memory anyway) so that the journal knows
the status and AWS error code before the program sees the answer. The whole chain runs in the
call's ``emulation.context.request_context``, so emulation code knows which cloud, account and
region a call acts in.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import io
import json
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

from motobox import emulation
from motobox.aws.identify import Call, identify, payload_member, summarize_params
from motobox.aws.models import host_name, is_api_host
from motobox.emulation.context import CloudContext, request_context
from motobox.journal import Journal
from motobox.transport import aws_chunked
from motobox.transport.http import Client, Delivery, Headers
from motobox.transport.wsgi import DELIVERY

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
DEFAULT_ACCOUNT = "123456789012"


@dataclass
class Answer:
    """An HTTP answer held in memory."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    forced: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: A transport fault to deliver this answer with (a rule's ``reset``, ``hang``,
    #: ``truncate``, ``throttle_bandwidth``), and what the journal says of it before the
    #: transport adds what the client got.
    delivery: Delivery | None = None
    transport: dict[str, Any] | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


#: Bodies larger than this stay in the server's temporary file and are handed to the backend as
#: a stream: moto reads them once, motobox never holds them in memory (``LargeBody``).
LARGE_BODY = 8 * 1024 * 1024


@dataclass
class LargeBody:
    """A request body above ``LARGE_BODY``, left where the server spooled it. The journal gets
    its size and sha256 in place of the payload parameter."""

    stream: Any
    length: int
    sha256: str

    def __len__(self) -> int:
        return self.length

    def open(self) -> Any:
        self.stream.seek(0)
        return self.stream

    @classmethod
    def take(cls, stream: Any, length: int) -> LargeBody:
        digest = hashlib.sha256()
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
        stream.seek(0)
        return cls(stream, length, digest.hexdigest())


Body = bytes | LargeBody


@dataclass
class Exchange:
    """One call on its way through the layers."""

    environ: dict[str, Any]
    body: Body
    call: Call
    account: str
    #: A scenario's ``setup:`` call: never touched by rules, journaled as set-up.
    setup: bool = False
    #: How ``account`` was found: "header", "key" (an access key motobox or moto knows), or
    #: "default" (the cloud's account).
    account_source: str = "default"
    started: float = field(default_factory=time.perf_counter)


Backend = Callable[[Exchange], Answer]


def call_wsgi(app: WSGIApp, environ: dict[str, Any], body: Body) -> Answer:
    """Run a WSGI app on a request whose body is already read; collect its answer."""
    environ = dict(environ)
    environ["wsgi.input"] = body.open() if isinstance(body, LargeBody) else io.BytesIO(body)
    # The stream holds exactly the body: werkzeug then reads it in one piece instead of
    # gathering it into a buffer and copying that (two copies of a large upload at once).
    environ["wsgi.input_terminated"] = True
    environ["CONTENT_LENGTH"] = str(len(body))
    state: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        state["status"], state["headers"] = status, headers
        return lambda data: None

    result = app(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return Answer(int(state["status"].split(" ", 1)[0]), list(state["headers"]), data)


# -- backends ------------------------------------------------------------------------------


@functools.cache
def _moto_dispatcher() -> WSGIApp:
    """moto's host/credential-scope dispatcher, with the per-request directory scan cached.

    ``DomainDispatcherApplication.get_backend_for_host`` lists moto's package folder (about
    180 ``stat`` calls) on every request (docs/ARCHITECTURE.md, "Where plain moto spends its
    time"); the folder does not change while we run, so we list it once.
    """
    import moto.backends as backends
    from moto.moto_server.werkzeug_app import (
        BackendRequest,
        DomainDispatcherApplication,
        create_backend_app,
    )
    from werkzeug.wrappers import Request as WerkzeugRequest

    modules = frozenset(backends.list_of_moto_modules())

    class Request(BackendRequest):
        """moto runs its Flask apps in debug mode (for the exceptions it lets through); Flask
        then builds a new class for every request that reads the body as a form (a help text
        for ``request.files`` in browsers). We keep debug mode and skip that class."""

        def _load_form_data(self) -> None:
            WerkzeugRequest._load_form_data(self)

    def flask_app(service: Any) -> Any:
        app = create_backend_app(service)
        app.request_class = Request
        return app

    def create_app(service: Any) -> Any:
        """A service's handlers without Flask (``moto_app``); moto's API and instance
        metadata keep their Flask apps."""
        from motobox.aws.moto_app import FLASK_ONLY, ServiceApp

        if service in FLASK_ONLY:
            return flask_app(service)
        return ServiceApp(service, Request, functools.partial(flask_app, service))

    class Dispatcher(DomainDispatcherApplication):
        """Answers "which backend serves this host" once per host (it never changes); an
        unsigned call to an AWS API host (a sealed ``curl https://sts.amazonaws.com/``) goes
        to the service its host names, as on AWS: moto 5.2.5 reads the service only from the
        signature or the body, and sends the rest to S3."""

        hosts: dict[str | None, Any] = {}

        def infer_service_region_host(self, environ: dict[str, Any], path: str) -> str | None:
            host = environ.get("HTTP_HOST") or ""
            if is_api_host(host) and (
                not environ.get("HTTP_AUTHORIZATION") or ".execute-api." in host
            ):  # moto 5.2.5 reads a signed execute-api call (an IAM-authorized API) as IoT
                return host_name(host)
            return super().infer_service_region_host(environ, path)

        def get_backend_for_host(self, host: str | None) -> Any:
            if host in modules:
                return host
            if host not in self.hosts:  # called under self.lock
                self.hosts[host] = super().get_backend_for_host(host)
            return self.hosts[host]

    return Dispatcher(create_app)


class MotoBackend:
    """The embedded cloud: moto's WSGI application, called in-process. The account a call
    acts in reaches moto as ``x-moto-account-id`` (first in moto's own lookup)."""

    embedded = True

    def __init__(self) -> None:
        self.app = _moto_dispatcher()

    def __call__(self, exchange: Exchange) -> Answer:
        emulation.apply(exchange.call.service)
        environ = exchange.environ
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = exchange.account
        return call_wsgi(self.app, environ, exchange.body)


def moto_backend() -> MotoBackend:
    return MotoBackend()


def reset_moto_state() -> None:
    """Forget every resource of the embedded cloud. moto keeps its state in module globals,
    so the clouds of one process share it; a cloud that starts while no other embedded cloud
    runs begins empty (``Cloud`` calls this)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


class RemoteBackend:
    """Forwards each call to an external moto server (``--backend URL``) over the one upstream
    client of ``transport.http``, with the request's own headers (``Host`` included, once)."""

    embedded = False

    def __init__(self, url: str, ssl_context: Any = None) -> None:
        try:
            self.client = Client(url, ssl_context=ssl_context)
        except ValueError:
            from motobox.errors import UsageError

            raise UsageError(
                f"--backend {url!r} is not an http(s) URL; e.g. http://127.0.0.1:5000"
            ) from None
        self.url = url

    def __call__(self, exchange: Exchange) -> Answer:
        environ = exchange.environ
        if exchange.account_source != "default":  # else the remote looks the key up itself
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = exchange.account
        target = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        if target.startswith(("http://", "https://")):
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        body = exchange.body.open() if isinstance(exchange.body, LargeBody) else exchange.body
        answer = self.client.request(
            environ["REQUEST_METHOD"], target, request_headers(environ), body
        )
        return Answer(answer.status, answer.headers.without_hop_by_hop().items(), answer.body)


def request_headers(environ: Mapping[str, Any]) -> Headers:
    """The request's header fields, rebuilt from a WSGI environ (names as the program spelled
    them where moto's request handler kept them, else in the usual capitalisation)."""
    headers = Headers()
    preserved = environ.get(PRESERVED_HEADER_NAMES_ENVIRON_KEY) or {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.add(preserved.get(key) or key[5:].replace("_", "-").title(), value)
    if environ.get("CONTENT_TYPE"):
        headers.add("Content-Type", environ["CONTENT_TYPE"])
    return headers


# -- layers --------------------------------------------------------------------------------


def guarded(backend: Backend, strict: Callable[[], bool] = lambda: False) -> Backend:
    """``backend``, whose exceptions become an AWS error in the call's own protocol
    (``aws.failure``): ``InternalFailure`` (500) with the exception's message, or for an
    operation moto does not implement, an empty answer (``NotImplemented`` in strict mode);
    never a plain-text 500."""

    def layer(exchange: Exchange) -> Answer:
        try:
            answer = backend(exchange)
        except Exception as exc:
            from motobox.aws.failure import exception_answer

            return exception_answer(exchange, exc, strict=strict())
        partial = PARTIAL.get((exchange.call.service or "", exchange.call.operation or ""))
        if partial and answer.status < 300 and not answer.extra:
            answer.extra = {"emulation": "partial", "message": partial}
        return answer

    return layer


# Operations moto answers without doing what AWS does: the answer is kept (it parses, and the
# program goes on), the journal record says what was not done, and the run's summary names it.
PARTIAL: dict[tuple[str, str], str] = {
    ("stepfunctions", "StartExecution"): (
        "moto 5.2.5 does not run the execution: it stays RUNNING, no state (Task, Lambda) "
        "runs, and GetExecutionHistory is a canned Pass-state history"
    ),
    ("stepfunctions", "StartSyncExecution"): (
        "moto 5.2.5 does not run the execution: no state (Task, Lambda) runs"
    ),
}


_XML_CODE = re.compile(rb"<Code>([^<]+)</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")


def error_code(answer: Answer) -> str | None:
    """The AWS error code of an error answer, from whichever protocol it was written in."""
    if answer.status < 300:
        return None
    code = answer.header("x-amzn-errortype")
    if code:
        return code.split(":", 1)[0].rsplit("#", 1)[-1].rsplit("#", 1)[-1]
    body = answer.body[:65536]
    match = _XML_CODE.search(body)
    if match:
        return match.group(1).decode("utf-8", "replace")
    if body.startswith(b"{"):
        try:
            doc = json.loads(body)
        except ValueError:
            return None
        raw = doc.get("__type") or doc.get("code") or doc.get("Code")
        if isinstance(raw, str):
            return raw.rsplit("#", 1)[-1].split(":", 1)[0]
    if answer.header("smithy-protocol") == "rpc-v2-cbor":
        try:
            import cbor2

            doc = cbor2.loads(body)
            raw = doc.get("__type") if isinstance(doc, dict) else None
            if isinstance(raw, str):
                return raw.rsplit("#", 1)[-1]
        except Exception:
            return None
    return None


# -- accounts ------------------------------------------------------------------------------


def moto_key_account(access_key: str) -> str | None:
    """The account whose IAM holds ``access_key`` in moto: keys made by ``CreateAccessKey``
    and those issued by ``AssumeRole``, ``AssumeRoleWithSAML`` and ``AssumeRoleWithWebIdentity``
    (which belong to the role's account), as moto's own lookup finds them
    (``moto.iam.models.get_account_id_from``)."""
    from moto.iam.models import iam_backends
    from moto.utilities.utils import PARTITION_NAMES

    for account_id, account in list(iam_backends.items()):
        for partition in PARTITION_NAMES:
            if access_key in account[partition].access_keys:
                return str(account_id)
    return None


# -- the gateway ---------------------------------------------------------------------------


class Gateway:
    """The WSGI app in front of the backend: receives, runs the layers, records."""

    def __init__(
        self,
        journal: Journal,
        backend: Backend | None = None,
        *,
        default_account: str = DEFAULT_ACCOUNT,
        accounts: Mapping[str, str] | None = None,
        rules: Any = None,
    ) -> None:
        self.journal = journal
        self._backend: Backend = backend or moto_backend()
        self.default_account = default_account
        #: access key id -> account id; a program using a key listed here acts in that account.
        self.accounts: dict[str, str] = dict(accounts or {})
        self.rules = rules
        self.chain = self._compose()
        #: The cloud this gateway serves, for emulation code (``emulation.context``); set by
        #: ``Cloud`` once it listens.
        self.cloud: CloudContext | None = None
        # identify() reads models through moto before the first request reaches moto: the
        # fixes every service needs (one shared model loader) go in first.
        emulation.apply("core")

    def _compose(self) -> Backend:
        """The layers, outermost first: guarded -> rules -> backend."""
        inner = self.rules.wrap(self._backend) if self.rules is not None else self._backend
        return guarded(inner, strict=lambda: bool(self.cloud is not None and self.cloud.strict))

    @property
    def backend(self) -> Backend:
        return self._backend

    @backend.setter
    def backend(self, backend: Backend) -> None:
        self._backend = backend
        self.chain = self._compose()

    def account_for(self, call: Call, environ: Mapping[str, Any]) -> tuple[str, str]:
        """The account a call acts in and how it was found, looked up as moto looks it up: an
        explicit ``x-moto-account-id``, then the access key (motobox's own keys and those a
        scenario names, then keys moto issued), then the cloud's account."""
        explicit = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        if explicit:
            return str(explicit), "header"
        key = call.access_key_id
        if key:
            if key in self.accounts:
                return self.accounts[key], "key"
            # motobox's own fake keys name their account (``MOTOBOX<12 digits>``), so programs
            # sharing one cloud can each act in an account of their own.
            if len(key) == 19 and key.startswith("MOTOBOX") and key[7:].isdigit():
                return key[7:], "key"
            if getattr(self.backend, "embedded", False):
                account = moto_key_account(key)
                if account is not None:
                    return account, "key"
        return self.default_account, "default"

    def receive(self, environ: dict[str, Any]) -> Exchange | Answer:
        """The call in ``environ``, its body read (or a 400 answer for a broken body)."""
        stream = environ["wsgi.input"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body: Body
        if aws_chunked.is_aws_chunked(environ) and stream is not None:
            decoded: Any = tempfile.SpooledTemporaryFile(max_size=LARGE_BODY)  # noqa: SIM115
            try:
                length = aws_chunked.decode_request(environ, stream, decoded) or 0
            except aws_chunked.ChunkError as exc:
                decoded.close()
                call = identify(environ, b"")
                exchange = Exchange(environ, b"", call, self.default_account)
                from motobox.aws.failure import error_answer

                return error_answer(exchange, "IncompleteBody", str(exc), 400)
            decoded.seek(0)
            stream = decoded
        if stream is not None and length > LARGE_BODY and hasattr(stream, "seek"):
            body = LargeBody.take(stream, length)
            call = identify(environ, b"")
            if call.params is not None:
                call.params[payload_member(call) or "Body"] = {
                    "size": body.length,
                    "sha256": body.sha256,
                }
        else:
            body = stream.read() if stream is not None else b""
            call = identify(environ, body)
        setup = bool(environ.pop("HTTP_X_MOTOBOX_SETUP", None))
        account, source = self.account_for(call, environ)
        return Exchange(environ, body, call, account, setup=setup, account_source=source)

    def record(
        self, exchange: Exchange, answer: Answer, transport: dict[str, Any] | None = None
    ) -> None:
        """The call's journal record. ``transport``: what a transport fault delivered; when
        the client got no status line (a reset, a held connection) the record's ``status`` is
        0 and ``error`` null."""
        call = exchange.call
        status, error = answer.status, error_code(answer)
        if transport is not None and not transport.get("head"):
            status, error = 0, None
        self.journal.append(
            {
                "kind": "aws",
                "service": call.service,
                "operation": call.operation,
                "region": call.region,
                "account": exchange.account,
                "status": status,
                "error": error,
                "forced": answer.forced,
                "ms": round((time.perf_counter() - exchange.started) * 1000, 2),
                "params": summarize_params(call.params) if call.params is not None else None,
                **answer.extra,
                **({"transport": transport} if transport is not None else {}),
                **({"setup": True} if exchange.setup else {}),
            }
        )

    def _deferred(self, exchange: Exchange, answer: Answer, delivery: Delivery) -> Delivery:
        """``delivery``, journaling the call when the transport reports what it delivered."""
        label = dict(answer.transport or {})

        def done(report: dict[str, Any]) -> None:
            self.record(exchange, answer, {**label, **report})

        delivery.done = done
        return delivery

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        received = self.receive(environ)
        if isinstance(received, Answer):
            answer = received
        else:
            exchange = received
            with request_context(
                signature_version=exchange.call.signature_version,
                cloud=self.cloud,
                account=exchange.account,
                region=exchange.call.region,
            ):
                answer = self.chain(exchange)
            if isinstance(exchange.body, LargeBody):
                exchange.body.stream.close()
            if answer.delivery is None:
                self.record(exchange, answer)
            elif DELIVERY in environ:  # journaled once the transport has delivered it
                environ[DELIVERY] = self._deferred(exchange, answer, answer.delivery)
            else:  # served by something that cannot deliver a fault: say so, answer as is
                self.record(exchange, answer, {**(answer.transport or {}), "delivered": False})
        headers = answer.headers
        if environ["REQUEST_METHOD"] != "HEAD":  # a HEAD answer keeps the length it announces
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {http.client.responses.get(answer.status, '')}", headers)
        return [answer.body]
