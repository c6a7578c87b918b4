"""moto's service handlers called without Flask.

moto serves each service through a Flask app (``moto_server.werkzeug_app.create_backend_app``):
Flask's request and application contexts, its routing, ``convert_to_flask_response`` around
each handler, ``flask_cors`` after each request. Of that, the handlers need only a werkzeug
request (moto's ``BackendRequest``), the URL rule that picks them, and ``(status, headers,
body)`` turned into an answer; the rest costs ~60 us a call (measured: an sts call through the
Flask app 236 us, the same handler called directly 175 us), about what the first (h11)
HTTP layer cost motobox per call. ``ServiceApp`` does exactly those steps:

    environ -> BackendRequest (motobox's subclass: no per-request form class)
            -> the service's werkzeug Map (the same rules, converters and methods moto gives
               Flask) -> the handler moto registered for the rule
            -> handler(request, raw_url, headers), a ``ClientError`` answered 400 as
               ``convert_to_flask_response`` answers it, a werkzeug ``HTTPException`` (moto's
               ``RESTError`` errors) with its own answer, as Flask answers it
            -> a werkzeug ``Response`` with Flask's default content type (flask's own needs an
               application context) and the CORS headers flask_cors adds
               (``flask_cors.core.get_cors_headers``, moto's options)

What stays on Flask: moto's own API (``/moto-api``), instance metadata (their handlers read
``flask.request``), and CORS preflight requests (``OPTIONS``, answered by flask_cors itself).
An exception in a handler propagates, as it does from moto's Flask apps in debug mode, to the
gateway's ``guarded`` layer. moto's server-mode suite (``make moto-suite``) runs through this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

FLASK_ONLY = frozenset({"moto_api", "instance_metadata"})
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ServiceApp:
    """One moto service as a WSGI app, without Flask (see the module docstring)."""

    def __init__(self, service: str, request_class: type, flask_app: Callable[[], WSGIApp]) -> None:
        from moto import backends
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.core.base_backend import BackendDict
        from moto.moto_server.utilities import RegexConverter
        from moto.moto_server.werkzeug_app import HTTP_METHODS
        from werkzeug.routing import Map, Rule

        self.request_class = request_class
        self._flask_app = flask_app
        self._flask: WSGIApp | None = None
        backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
        # As create_backend_app: any instance resolves the URLs.
        if isinstance(backend_dict, BackendDict):
            regions = backend_dict[DEFAULT_ACCOUNT_ID]
            backend = regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
        else:
            backend = backend_dict["global"]
        self.url_map = Map()
        self.url_map.converters["regex"] = RegexConverter
        self.handlers: dict[str, Callable[..., Any]] = {}
        for url_path, handler in backend.flask_paths.items():
            endpoint = f"e{len(self.handlers)}"
            self.handlers[endpoint] = handler
            if url_path:  # moto keeps an empty path for services Flask cannot route either
                self.url_map.add(
                    Rule(url_path, endpoint=endpoint, methods=HTTP_METHODS, strict_slashes=False)
                )
        self._cors = cors_options()

    def flask(self) -> WSGIApp:
        if self._flask is None:
            self._flask = self._flask_app()
        return self._flask

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        from botocore.exceptions import ClientError
        from moto.moto_api import recorder
        from werkzeug.exceptions import HTTPException

        if environ.get("REQUEST_METHOD") == "OPTIONS":  # CORS preflight: flask_cors answers
            return self.flask()(environ, start_response)
        request = self.request_class(environ)
        try:
            endpoint, _ = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:  # no rule moto has for this URL: not emulated
            raise NotImplementedError(
                f"moto has no handler for {environ.get('REQUEST_METHOD')} "
                f"{environ.get('HTTP_HOST', '')}{environ.get('PATH_INFO', '')} "
                f"({exc.code} {exc.name})"
            ) from None
        recorder._record_request(request)
        try:
            result = self.handlers[endpoint](request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        except HTTPException as exc:  # moto's RESTError and its kin: their own answer, as
            return exc.get_response(environ)(environ, start_response)  # Flask gives it
        if len(result) == 3:
            status, headers, content = result
        else:
            status, headers, content = 200, {}, result
        response = _response_class()(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        self._add_cors(request, response)
        return response(environ, start_response)

    def _add_cors(self, request: Any, response: Any) -> None:
        from flask_cors.core import get_cors_headers
        from moto.settings import DISABLE_GLOBAL_CORS

        if DISABLE_GLOBAL_CORS:
            return
        for name, value in get_cors_headers(self._cors, request.headers, request.method).items():
            response.headers.add(name, value)


def cors_options() -> Any:
    """The CORS options of moto's apps: ``create_backend_app`` calls ``CORS(app)`` with none
    and sets no ``CORS_*`` config, so flask_cors's defaults (computed without building the
    Flask app, ~2 ms of a service's first call; a test compares them with the app's)."""
    from flask_cors.core import get_cors_options

    return get_cors_options(_NoConfig())  # type: ignore[arg-type]  # it reads .config only


class _NoConfig:
    config: dict[str, Any] = {}


_RESPONSE: list[type] = []


def _response_class() -> type:
    """werkzeug's ``Response`` with Flask's default content type (``text/html``)."""
    if not _RESPONSE:
        from werkzeug.wrappers import Response

        class FlaskLike(Response):
            default_mimetype = "text/html"

        _RESPONSE.append(FlaskLike)
    return _RESPONSE[0]
