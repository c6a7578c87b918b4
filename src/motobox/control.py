"""The control API: a running cloud, reached over its own port under ``/_motobox/``.

One way to reach a running motobox, whatever the command: its *cloud URL* (the
``AWS_ENDPOINT_URL`` of its programs, e.g. ``http://127.0.0.1:4566``), given as ``--cloud URL``
or found in ``$MOTOBOX_CLOUD`` (which ``eval "$(motobox serve --detach)"`` sets).

    GET  /_motobox/cloud            what a program needs to use this cloud (JSON): endpoint,
                                    egress proxy, CA certificate, account, region
    GET  /_motobox/journal?after=N  the journal's records after ``seq`` N (JSON Lines)
    POST /_motobox/stop             stop the cloud (``motobox serve`` exits 0)
    GET  /_motobox/rules            rules added while the cloud runs (``live``), most recent
                                    first, with how often each fired
    POST /_motobox/rules            add rules, egress stubs, DNS rules (JSON, a scenario's
                                    shape): 201 {"id", "sources"}, or 400 {"error": one line
                                    a problem, as the scenario loader writes them}
    DELETE /_motobox/rules/<id>     remove them again
    *    /_motobox/<route>/...      routes that emulation code registers (``register``,
                                    ``register_app``): a custom resource's answer is
                                    ``PUT /_motobox/cfn-response/<token>``

``ControlAPI`` is a WSGI layer in front of the gateway (requests under the prefix never reach
the gateway or the journal); ``CloudClient`` is its client. The program under test can reach
the API too: it is on the cloud's port, on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from motobox.errors import UsageError

if TYPE_CHECKING:
    from motobox.cloud import Cloud

PREFIX = "/_motobox/"
ENV = "MOTOBOX_CLOUD"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: A route's handler: (method, rest of the path, query, body) -> (status, JSON-able answer).
Route = Callable[[str, str, dict[str, list[str]], bytes], tuple[int, Any]]
_routes: dict[str, Route] = {}
_apps: dict[str, WSGIApp] = {}


def register(name: str, route: Route) -> None:
    """Serve ``/_motobox/<name>/...`` with ``route`` on every cloud of this process."""
    _routes[name] = route


def register_app(name: str, app: WSGIApp) -> None:
    """Serve ``/_motobox/<name>/...`` with the WSGI app ``app`` (a custom resource's answer:
    ``emulation.cloudformation.custom``)."""
    _apps[name] = app


def _json(status: int, value: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    body = (json.dumps(value) + "\n").encode()
    return status, [("Content-Type", "application/json")], body


class ControlAPI:
    """The control API in front of ``app`` (the gateway)."""

    def __init__(self, app: WSGIApp, cloud: Cloud) -> None:
        self.app = app
        self.cloud = cloud

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.app(environ, start_response)
        method = environ["REQUEST_METHOD"]
        name, _, rest = path[len(PREFIX) :].partition("/")
        if name in _apps:
            return _apps[name](environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            if name in _routes:
                status, value = _routes[name](method, rest, query, body)
                status, headers, data = _json(status, value)
            elif name == "rules" and self.cloud.live is not None:
                status, headers, data = _json(*self.cloud.live.http(method, rest, body))
            else:
                status, headers, data = self._own(method, name, query)
        except UsageError as exc:  # a ScenarioError carries each problem's line too
            problems = getattr(exc, "problems", None)
            extra = {"problems": problems} if problems else {}
            status, headers, data = _json(400, {"error": exc.line(), **extra})
        start_response(f"{status} {'OK' if status < 300 else 'Error'}", headers)
        return [data]

    def _own(
        self, method: str, name: str, query: dict[str, list[str]]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if name == "cloud" and method == "GET":
            return _json(200, self.cloud.facts())
        if name == "journal" and method == "GET":
            after = int((query.get("after") or ["0"])[0] or 0)
            lines = [
                json.dumps(r, default=str) for r in self.cloud.journal.records if r["seq"] > after
            ]
            data = "".join(line + "\n" for line in lines).encode()
            return 200, [("Content-Type", "application/x-ndjson")], data
        if name == "stop" and method == "POST":
            self.cloud.request_stop()
            return _json(200, {"stopping": True})
        known = ", ".join(["cloud", "journal", "rules", "stop", *sorted(_routes), *sorted(_apps)])
        return _json(404, {"error": f"no {method} {PREFIX}{name}; known: {known}"})


class CloudClient:
    """A running cloud's control API, from another process."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"--cloud {url!r} is not a cloud URL; give the one motobox serve printed "
                f"(e.g. http://127.0.0.1:4566) or set {ENV}"
            )
        self.url = f"{parts.scheme}://{parts.netloc}"

    def _open(self, method: str, path: str, data: bytes | None = None) -> bytes:
        # Imported here: ``motobox serve`` imports this module for its server side, and
        # urllib.request (with http.client and email) is ~15 ms of its start-up.
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.url + PREFIX + path, data=data, method=method)
        # The cloud is on loopback: never through a proxy of the environment.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=30) as answer:
                return bytes(answer.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            try:
                answer = json.loads(detail)
            except ValueError:
                answer = {}
            if isinstance(answer, dict) and answer.get("problems"):  # a change's problems
                from motobox.scenario.load import ScenarioError

                raise ScenarioError([str(p) for p in answer["problems"]]) from None
            if isinstance(answer, dict) and "error" in answer:
                detail = str(answer["error"])
            raise UsageError(f"{self.url}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UsageError(
                f"no motobox answers at {self.url} ({reason}); start one with "
                f'eval "$(motobox serve --detach)" or check --cloud / ${ENV}'
            ) from None

    def facts(self) -> dict[str, Any]:
        facts = json.loads(self._open("GET", "cloud"))
        if not isinstance(facts, dict) or "endpoint_url" not in facts:
            raise UsageError(f"{self.url} is not a motobox cloud (no {PREFIX}cloud facts)")
        return facts

    def journal(self, after: int = 0) -> list[dict[str, Any]]:
        data = self._open("GET", f"journal?after={after}")
        return [json.loads(line) for line in data.decode().splitlines() if line.strip()]

    def stop(self) -> None:
        self._open("POST", "stop", b"")

    def add_rules(self, text: str) -> dict[str, Any]:
        """Add a change (JSON text, ``live``) to the cloud's rules; its id and sources."""
        return dict(json.loads(self._open("POST", "rules", text.encode())))

    def rules(self) -> list[dict[str, Any]]:
        return list(json.loads(self._open("GET", "rules")))

    def remove_rules(self, change_id: str) -> dict[str, Any]:
        return dict(json.loads(self._open("DELETE", f"rules/{change_id}")))
