"""Egress control: every HTTP(S) request the program makes that is not a call to the cloud.

The program gets ``HTTP_PROXY``/``HTTPS_PROXY`` pointing here; a sealed run also hands its
connections to ports 80 and 443 here. Nothing leaves the machine:

    CONNECT host:443   -> "200 Connection established", then TLS on the tunnel with a
                          certificate the per-run CA mints for ``host`` (cached per name), or
                          plain HTTP when the client sends no TLS; requests inside the tunnel
                          keep their origin and scheme
    GET http://host/   -> absolute-form through the proxy
    sealed 80 / 443    -> the same, the host coming from SNI and ``Host``

    each request -> decide(url, stubs, cloud_authorities, live)  (policy: pure, no sockets)
        Answer(stub)   an ``egress:`` entry matches: those added while the cloud runs first
                       (the most recent first), then the scenario's; URL entries before host
                       ones in each
        ToCloud        an AWS API host (``aws.models.is_api_host``: botocore's endpoint data
                       names a service in it) or the cloud's own address: the cloud's handler
                       answers in-process, with the Host and scheme the program used, and the
                       gateway journals it as an AWS call
        Answer(deny)   anything else: HTTP 403 naming motobox and the host
      -> journal: {"kind": "egress", "method", "url", "host", "status", "action", "forced"}

A stub may also fail the transport as a rule can (``reset``, ``hang``, ``truncate``,
``throttle_bandwidth``: ``transport.http.Delivery``): every request it answers gets the fault
(no ``times``: add and remove the stub while the cloud runs for that). It is journaled once
delivered, with ``transport`` saying what the client got, as the gateway journals AWS calls.
An AWS call that reaches the cloud through the proxy or a sealed 443 gets its rule's fault
from the gateway, delivered on the tunnel's own connection.

Deny is an HTTP answer, not a dropped connection: taskcat goes on after an HTTP error for its
report stylesheet but exits 1 on a connection error (docs/ARCHITECTURE.md). Telemetry hosts
that look like AWS (``cdk-cli-telemetry.us-east-1.api.aws``) are not AWS APIs: they get the
egress answer, and an ``egress:`` stub for them is honoured.

Transport is ``transport.http`` (llhttp); mitmproxy and its peers bring an event loop and dozens of
dependencies for what is, here, one handler.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from motobox.aws.models import host_name, is_api_host
from motobox.journal import Journal
from motobox.transport.http import (
    Delivery,
    Headers,
    Request,
    Response,
    Server,
    Tunnel,
    serve_connection,
    split_authority,
)

if TYPE_CHECKING:
    from motobox.sandbox.ca import CertificateAuthority


@dataclass
class Stub:
    """A scenario ``egress:`` entry: the answer for one URL or every URL of a host."""

    url: str | None = None
    host: str | None = None
    status: int = 200
    body: bytes | str = b""
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    #: A transport fault for every request the stub answers.
    reset: bool = False
    hang: bool = False
    truncate: int | None = None
    throttle_bandwidth: float | None = None
    #: The scenario entry as written (a run attached to a running cloud sends it on).
    spec: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def faulty(self) -> bool:
        return bool(self.reset or self.hang or self.truncate is not None or self.throttle_bandwidth)

    def fault_label(self) -> dict[str, Any]:
        """What the journal says of the stub's fault before the transport delivers it."""
        if self.reset:
            return {"effect": "reset"}
        if self.hang:
            return {"effect": "hang"}
        out: dict[str, Any] = {}
        if self.truncate is not None:
            out = {"effect": "truncate", "truncate": self.truncate}
        if self.throttle_bandwidth:
            out.setdefault("effect", "throttle_bandwidth")
            out["throttle_bandwidth"] = self.throttle_bandwidth
        return out

    def matches(self, url: str, host: str) -> bool:
        if self.url is not None:
            want = urlsplit(self.url)
            got = urlsplit(url)
            if (want.scheme, (want.netloc or "").lower(), want.path or "/") != (
                got.scheme,
                got.netloc.lower(),
                got.path or "/",
            ):
                return False
            return not want.query or want.query == got.query
        return self.host is not None and host_name(self.host) == host

    def answer(self) -> Answer:
        headers = dict(self.headers)
        if self.json is not None:
            body = json.dumps(self.json).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = self.body.encode() if isinstance(self.body, str) else self.body
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return Answer(
            self.status, headers, body, "stub", self.source, self if self.faulty else None
        )


@dataclass(frozen=True)
class ToCloud:
    """The request is a call to the cloud: its handler answers it."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    action: str  # "stub" or "deny"
    forced: str | None = None
    #: The stub, when it fails the transport.
    fault: Stub | None = None


def denial(host: str) -> Answer:
    return Answer(
        403,
        {"Content-Type": "text/plain; charset=utf-8"},
        (
            f"motobox denied egress to {host}: no stub in the scenario "
            "(add an egress: entry to allow it)\n"
        ).encode(),
        "deny",
    )


def decide(
    url: str,
    stubs: Sequence[Stub],
    cloud: Collection[str] = (),
    live: Sequence[Stub] = (),
) -> ToCloud | Answer:
    """What happens to a request for ``url`` (see the module docstring). ``cloud``: the
    authorities (``host:port``) the cloud itself listens on; ``live``: stubs added while the
    cloud runs, the most recent first, consulted before ``stubs``."""
    parts = urlsplit(url)
    host = host_name(parts.netloc)
    for group in (live, stubs):
        for want_url in (True, False):
            for stub in group:
                if (stub.url is not None) == want_url and stub.matches(url, host):
                    return stub.answer()
    if parts.netloc.lower() in cloud or is_api_host(host):
        return ToCloud()
    return denial(host)


class EgressProxy:
    """The program's HTTP(S) proxy, and the handler of a sealed run's ports 80 and 443.

    ``cloud_handler`` answers calls to the cloud (``transport.wsgi.WSGIHandler`` around the
    gateway); ``cloud_authorities`` are the addresses the cloud listens on."""

    def __init__(
        self,
        ca: CertificateAuthority,
        journal: Journal,
        *,
        cloud_handler: Callable[[Request], Response],
        cloud_authorities: Collection[str] = (),
        stubs: Sequence[Stub] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.ca = ca
        self.journal = journal
        self.cloud_handler = cloud_handler
        self.cloud_authorities = {a.lower() for a in cloud_authorities}
        self.stubs: list[Stub] = list(stubs)
        #: Stubs added while the cloud runs, by change, the most recent first.
        self._live: list[tuple[str, list[Stub]]] = []
        self.live_stubs: tuple[Stub, ...] = ()
        self._address = (host, port)
        self._server: Server | None = None

    def add_stub(self, stub: Stub) -> None:
        self.stubs.append(stub)

    def add_live(self, key: str, stubs: Sequence[Stub]) -> None:
        """Consult ``stubs`` before every other until ``remove_live(key)``."""
        self._live.insert(0, (key, list(stubs)))
        self.live_stubs = tuple(s for _, group in self._live for s in group)

    def remove_live(self, key: str) -> None:
        self._live = [(k, group) for k, group in self._live if k != key]
        self.live_stubs = tuple(s for _, group in self._live for s in group)

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> EgressProxy:
        self._server = Server(self._proxy, *self._address, name="motobox-egress").start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server, "the proxy is not started"
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve_socket(self, sock: socket.socket, _address: Any = None) -> None:
        """Serve a connection to the proxy's port accepted elsewhere (a sealed namespace)."""
        assert self._server, "the proxy is not started"
        self._server.serve_socket(sock)

    def serve_direct(self, sock: socket.socket, port: int) -> None:
        """Serve a connection a program opened to ``port`` (80, or 443 with TLS) of a name
        that resolved to motobox, in a thread of its own."""
        assert self._server, "the proxy is not started"
        if port == 443:
            self._server.serve_socket_with(sock, self._tls_then_serve("", 443))
        else:
            self._server.serve_socket_with(
                sock, lambda conn: serve_connection(conn, self.handle, origin=None)
            )

    # -- requests ------------------------------------------------------------------------
    def _proxy(self, request: Request) -> Response | Tunnel:
        """A request to the proxy's own port."""
        if request.method == "CONNECT":
            host, port = split_authority(request.target, 443)
            return Tunnel(lambda sock, pending: self._tunnel(sock, pending, host, port))
        return self.handle(request)

    def _tunnel(self, sock: socket.socket, pending: bytes, host: str, port: int) -> None:
        if not pending:
            try:
                pending = sock.recv(1, socket.MSG_PEEK)
            except OSError:
                return
            if pending[:1] == b"\x16":  # a TLS ClientHello
                self._tls_then_serve(host, port)(sock)
                return
            pending = b""
        elif pending[:1] == b"\x16":
            return  # TLS bytes sent before our 200: no client does this; give up
        serve_connection(sock, self.handle, scheme="http", origin=(host, port), pending=pending)

    def _tls_then_serve(self, host: str, port: int) -> Callable[[socket.socket], None]:
        def run(sock: socket.socket) -> None:
            sock.settimeout(10)
            try:
                tls = self.ca.sni_context(host or "localhost").wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                sock.close()
                return
            origin = (host, port) if host else None  # sealed: Host names the origin
            serve_connection(tls, self.handle, scheme="https", origin=origin)

        return run

    def handle(self, request: Request) -> Response:
        """A request for some origin (through the proxy, in a tunnel, or sealed)."""
        url = request.url()
        decision = decide(url, self.stubs, self.cloud_authorities, self.live_stubs)
        if isinstance(decision, ToCloud):
            return self.cloud_handler(request)
        for _ in iter(lambda: request.body.read(1 << 20), b""):
            pass  # the body is never sent anywhere
        record = {
            "kind": "egress",
            "method": request.method,
            "url": url,
            "host": host_name(request.authority),
            "status": decision.status,
            "action": decision.action,
            "forced": decision.forced,
        }
        response = Response(decision.status, Headers(decision.headers.items()), decision.body)
        stub = decision.fault
        if stub is None:
            self.journal.append(record)
            return response
        label = stub.fault_label()

        def done(report: dict[str, Any]) -> None:  # journaled once delivered
            status = decision.status if report.get("head") else 0
            self.journal.append({**record, "status": status, "transport": {**label, **report}})

        response.delivery = Delivery(
            reset=stub.reset,
            hang=stub.hang,
            truncate=stub.truncate,
            rate=stub.throttle_bandwidth,
            done=done,
        )
        return response
