"""The AWS gateway: the WSGI app the program's SDK talks to.

A stack of small layers around moto, each one WSGI-shaped or a plain function:

    request -> Gateway: read the body, identify the call (``identify``: service and operation
               from botocore's models), pick the account (access key -> account)
            -> rules (``Gateway.rules``, optional): may answer instead of the backend, change
               the backend's answer, or add latency; names the rule that did it
            -> backend: ``moto_backend()`` (moto's own WSGI dispatcher, in-process) or
               ``RemoteBackend`` (an external moto server, ``--backend URL``)
            -> journal: one record per call, written when the answer is known.

The gateway buffers each answer (moto builds answers in memory anyway) so that the journal
knows the status and AWS error code before the program sees the answer.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import io
import json
import re
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

from motobox import emulation
from motobox.aws.identify import Call, identify, payload_member, summarize_params
from motobox.emulation.context import CloudContext, request_context
from motobox.journal import Journal
from motobox.transport.aws_chunked import decode_aws_chunked

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


class Backend(Protocol):
    def __call__(self, environ: dict[str, Any], body: Body) -> Answer: ...


class RuleLayer(Protocol):
    """What the scenario runtime plugs in: answer a call, or pass it to ``backend``."""

    def handle(
        self, call: Call, account: str, environ: dict[str, Any], body: Body, backend: Backend
    ) -> Answer: ...


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


@functools.cache
def _moto_dispatcher() -> WSGIApp:
    """moto's host/credential-scope dispatcher, with the per-request directory scan cached.

    ``DomainDispatcherApplication.get_backend_for_host`` lists moto's package folder (about
    180 ``stat`` calls) on every request (DESIGN.md, "Where plain moto spends its time"); the
    folder does not change while we run, so we list it once.
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

    def create_app(service: Any) -> Any:
        app = create_backend_app(service)
        app.request_class = Request
        return app

    class Dispatcher(DomainDispatcherApplication):
        """Answers "which backend serves this host" once per host (it never changes)."""

        hosts: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host in modules:
                return host
            if host not in self.hosts:  # called under self.lock
                self.hosts[host] = super().get_backend_for_host(host)
            return self.hosts[host]

    return Dispatcher(create_app)


def moto_backend() -> Backend:
    """The embedded cloud: moto's WSGI application, called in-process."""
    app = _moto_dispatcher()
    return functools.partial(call_wsgi, app)


def reset_moto_state() -> None:
    """Forget every resource of the embedded cloud. moto keeps its state in module globals,
    so the clouds of one process share it; a cloud that starts while no other embedded cloud
    runs begins empty (``Cloud`` calls this)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


class RemoteBackend:
    """Forwards each call to an external moto server (``--backend URL``), one kept-alive
    connection per thread."""

    def __init__(self, url: str, ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            from motobox.errors import UsageError

            raise UsageError(f"--backend {url!r} is not an http(s) URL; e.g. http://127.0.0.1:5000")
        self.url = url
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl_context
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._scheme == "https":
                conn = http.client.HTTPSConnection(
                    self._host, self._port, context=self._ssl, timeout=300
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=300)
            self._local.conn = conn
        return conn

    def __call__(self, environ: dict[str, Any], body: Body) -> Answer:
        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        if path.startswith(("http://", "https://")):
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        headers = _request_headers(environ)
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            conn = self._connection()
            try:
                data_or_stream = body.open() if isinstance(body, LargeBody) else body
                conn.request(environ["REQUEST_METHOD"], path, body=data_or_stream, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out = [
                    (k, v)
                    for k, v in resp.getheaders()
                    if k.lower() not in ("connection", "transfer-encoding", "keep-alive")
                ]
                return Answer(resp.status, out, data)
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    preserved = environ.get(PRESERVED_HEADER_NAMES_ENVIRON_KEY) or {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = preserved.get(key) or key[5:].replace("_", "-").title()
            headers[name] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


_XML_CODE = re.compile(rb"<Code>([^<]+)</Code>")


def error_code(answer: Answer) -> str | None:
    """The AWS error code of an error answer, from whichever protocol it was written in."""
    if answer.status < 300:
        return None
    code = answer.header("x-amzn-errortype")
    if code:
        return code.split(":", 1)[0].rsplit("#", 1)[-1]
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


class Gateway:
    """The WSGI app in front of the backend: identifies, applies rules, journals."""

    def __init__(
        self,
        journal: Journal,
        backend: Backend | None = None,
        *,
        default_account: str = DEFAULT_ACCOUNT,
        accounts: Mapping[str, str] | None = None,
        rules: RuleLayer | None = None,
    ) -> None:
        self.journal = journal
        self.backend = backend or moto_backend()
        self.default_account = default_account
        #: access key id -> account id; a program using a key listed here acts in that account.
        self.accounts: dict[str, str] = dict(accounts or {})
        self.rules = rules
        #: The cloud this gateway serves, for emulation code (``emulation.context``); set by
        #: ``Cloud`` once it listens.
        self.cloud: CloudContext | None = None
        # identify() reads models through moto before the first request reaches moto: the
        # fixes every service needs (one shared model loader) go in first.
        emulation.apply("core")

    def account_for(self, call: Call, environ: Mapping[str, Any]) -> str:
        explicit = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        if explicit:
            return str(explicit)
        key = call.access_key_id
        if key and key in self.accounts:
            return self.accounts[key]
        # motobox's own fake keys name their account (``MOTOBOX<12 digits>``), so programs
        # sharing one cloud can each act in an account of their own.
        if key and len(key) == 19 and key.startswith("MOTOBOX") and key[7:].isdigit():
            return key[7:]
        return self.default_account

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_motobox/cfn-response/"):
            from motobox.emulation.cloudformation import custom  # a custom resource's answer

            return list(custom.respond(environ, start_response))
        started = time.perf_counter()
        stream = environ["wsgi.input"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body: Body
        if stream is not None and length > LARGE_BODY and hasattr(stream, "seek"):
            decoded: Any = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the request
            size = decode_aws_chunked(environ, stream, decoded)
            if size is None:
                decoded.close()
            else:
                stream, length = decoded, size
                stream.seek(0)
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
        account = self.account_for(call, environ)
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        setup = bool(environ.pop("HTTP_X_MOTOBOX_SETUP", None))
        emulation.apply(call.service)
        try:
            with request_context(
                signature_version=call.signature_version,
                cloud=self.cloud,
                account=account,
                region=call.region,
            ):
                if self.rules is not None and not setup:
                    answer = self.rules.handle(call, account, environ, body, self.backend)
                else:
                    answer = self.backend(environ, body)
        except Exception as exc:
            from motobox.aws.failure import exception_answer

            strict = bool(self.cloud is not None and self.cloud.strict)
            answer = exception_answer(call, environ, body, exc, strict=strict)
        self.journal.append(
            {
                "kind": "aws",
                "service": call.service,
                "operation": call.operation,
                "region": call.region,
                "account": account,
                "status": answer.status,
                "error": error_code(answer),
                "forced": answer.forced,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "params": summarize_params(call.params) if call.params is not None else None,
                **answer.extra,
                **({"setup": True} if setup else {}),
            }
        )
        if isinstance(body, LargeBody):
            body.stream.close()
        headers = answer.headers
        if environ["REQUEST_METHOD"] != "HEAD":  # a HEAD answer keeps the length it announces
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {http.client.responses.get(answer.status, '')}", headers)
        return [answer.body]
