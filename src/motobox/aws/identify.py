"""Which AWS call is this request? Service, operation, region and parameters.

Everything comes from botocore's models, through moto's model-driven router and parsers:

    Authorization / X-Amz-Credential  -> signing name, region, access key, signature version
    signing name (or the Host's first labels) -> candidate services (``_Index``, built from
        the ``metadata`` block at the head of each botocore ``service-2.json``: reading only
        that block for all ~450 services takes milliseconds, loading every model ~3 s)
    candidate services, tried in order -> ``moto.core.routing.get_service_router(s).match``
        -> the operation model and URI parameters (Query, EC2, JSON, REST-JSON, REST-XML)
    smithy-rpc-v2-cbor -> the operation is named in the path (``/service/S/operation/Op``)
    the protocol's request parser (``moto.core.parse``) -> ``params``

About 40 signing names are shared by several services; ``rds``, ``docdb`` and ``neptune`` even
share endpoint, protocol and API version, so their calls cannot be told apart on the wire. We
take the service whose name is the signing name first (it is the one moto dispatches to), and
``services_sharing_wire_api`` tells the rule matcher which services a name stands for.

These are moto internals (``routing``, ``parse``, ``request``): moto is pinned, and
``tests/test_identify.py`` fails when they change.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import gzip
import hashlib
import io
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from motobox import usercache

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_V2 = re.compile(r"^AWS ([^:\s]+):")
_METADATA = re.compile(rb'"metadata"\s*:\s*(\{.*?\n  \})', re.S)
_CBOR_PATH = re.compile(r"/service/([^/]+)/operation/([^/?]+)")


@dataclass(frozen=True)
class Call:
    service: str | None = None
    operation: str | None = None
    region: str | None = None
    signing_name: str | None = None
    protocol: str | None = None
    access_key_id: str | None = None
    signature_version: str | None = None
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Service:
    name: str
    signing_name: str
    endpoint_prefix: str
    protocols: tuple[str, ...]
    api_version: str
    target_prefix: str = ""


_FIELDS = {f.name for f in dataclasses.fields(_Service)}


class _Index:
    """Service metadata of every botocore service, read from the head of each model file.

    Reading ~450 model heads takes ~60 ms, on the first call's path; the result depends only
    on the installed botocore, so it is kept in the user's cache (``usercache``) and read
    back in ~1 ms by every later run.
    """

    def __init__(self, services: Mapping[str, _Service] | None = None) -> None:
        self.services: dict[str, _Service] = (
            dict(services) if services is not None else _read_services()
        )
        self.by_signing: dict[str, list[str]] = {}
        self.by_prefix: dict[str, list[str]] = {}
        for s in self.services.values():
            self.by_signing.setdefault(s.signing_name, []).append(s.name)
            self.by_prefix.setdefault(s.endpoint_prefix, []).append(s.name)
        for table in (self.by_signing, self.by_prefix):
            for key, names in table.items():
                # The service named like the key first: it is the one moto dispatches to.
                names.sort(key=functools.partial(self._rank, key))

    @classmethod
    def load(cls) -> _Index:
        """The index from the cache when it was made for this botocore, else read afresh
        (and cached for the next run)."""

        def valid(rows: Any) -> bool:
            return usercache.is_list_of(dict, rows) and all(
                set(row) == _FIELDS and isinstance(row["protocols"], list) for row in rows
            )

        rows = usercache.cached(
            "service-index",
            usercache.botocore_tag(),
            lambda: [dataclasses.asdict(s) for s in cls().services.values()],
            valid,
        )
        return cls(
            {row["name"]: _Service(**{**row, "protocols": tuple(row["protocols"])}) for row in rows}
        )

    def _rank(self, key: str, name: str) -> tuple[bool, bool, str]:
        return (name != key, self.services[name].endpoint_prefix != key, name)

    def candidates(self, signing_name: str | None, host: str) -> list[str]:
        if signing_name:
            names = self.by_signing.get(signing_name) or self.by_prefix.get(signing_name)
            if names:
                return names
            if signing_name in self.services:
                return [signing_name]
        labels = host.split(":", 1)[0].split(".")
        for label in labels[:3]:  # bucket.s3.us-west-2.amazonaws.com, sts.amazonaws.com
            names = self.by_prefix.get(label)
            if names:
                return names
        return []


def _read_services() -> dict[str, _Service]:
    data = usercache.botocore_data()
    services: dict[str, _Service] = {}
    for service, versions in usercache.botocore_model_folders():
        for version in reversed(versions):
            meta = _read_metadata(data / service / version)
            if meta is not None:
                services[service] = _Service(
                    name=service,
                    signing_name=meta.get("signingName") or meta.get("endpointPrefix") or service,
                    endpoint_prefix=meta.get("endpointPrefix") or service,
                    protocols=tuple(meta.get("protocols") or [meta.get("protocol", "")]),
                    api_version=meta.get("apiVersion", version),
                    target_prefix=meta.get("targetPrefix", ""),
                )
                break
    return services


def _read_metadata(version_dir: Path) -> dict[str, Any] | None:
    for name, opener in (("service-2.json", open), ("service-2.json.gz", gzip.open)):
        path = version_dir / name
        if path.exists():
            with opener(path, "rb") as f:
                head = f.read(8192)
            match = _METADATA.search(head)
            if match:
                try:
                    return dict(json.loads(match.group(1)))
                except ValueError:
                    pass
            from motobox.aws.models import service_model

            return dict(service_model(version_dir.parent.name).metadata)
    return None


_index_lock = threading.Lock()


@functools.cache
def _index() -> _Index:
    with _index_lock:
        return _Index.load()


def endpoint_prefixes() -> frozenset[str]:
    """The endpoint prefix of every botocore service (``sts``, ``s3``, ``execute-api``...)."""
    return frozenset(s.endpoint_prefix for s in _index().services.values())


def services_sharing_wire_api(service: str) -> frozenset[str]:
    """Services whose calls look the same on the wire as ``service``'s: same signing name,
    endpoint prefix, protocols and API version (e.g. ``rds``, ``docdb``, ``neptune``)."""
    index = _index()
    me = index.services.get(service)
    if me is None:
        return frozenset({service})
    return frozenset(
        s.name
        for s in index.services.values()
        if (s.signing_name, s.endpoint_prefix, s.protocols, s.api_version)
        == (me.signing_name, me.endpoint_prefix, me.protocols, me.api_version)
    )


def _credentials(
    environ: Mapping[str, Any],
) -> tuple[str | None, str | None, str | None, str | None]:
    """(access key, region, signing name, signature version) from the request."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(auth)
    if match:
        return match.group(1), match.group(3), match.group(4), "v4"
    match = _V2.match(auth)
    if match:
        return match.group(1), None, None, "v2"
    query = environ.get("QUERY_STRING", "")
    if "X-Amz-Credential" in query:
        cred = parse_qs(query).get("X-Amz-Credential", [""])[0].split("/")
        if len(cred) == 5:
            return cred[0], cred[2], cred[3], "v4"
    if "AWSAccessKeyId" in query:
        return parse_qs(query).get("AWSAccessKeyId", [None])[0], None, None, "v2"
    return None, None, None, None


def _region_from_host(host: str) -> str | None:
    for label in host.split(":", 1)[0].split("."):
        if re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d", label):
            return label
    return None


def _moto_request(environ: Mapping[str, Any], body: bytes) -> Any:
    from moto.core.request import Request

    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(body)
    env["CONTENT_LENGTH"] = str(len(body))
    return Request(env)


def identify(environ: dict[str, Any], body: bytes) -> Call:
    """The call this request makes; fields that cannot be told are None. Never raises."""
    try:
        return _identify(environ, body)
    except Exception:
        return Call()


def _identify(environ: dict[str, Any], body: bytes) -> Call:
    access_key, region, signing_name, sigv = _credentials(environ)
    host = environ.get("HTTP_HOST", "")
    region = region or _region_from_host(host)
    base = Call(
        region=region,
        signing_name=signing_name,
        access_key_id=access_key,
        signature_version=sigv,
    )
    names = _index().candidates(signing_name, host)
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return _identify_cbor(base, names, environ, body)
    if not names:
        return base
    from moto.core.routing import get_service_router

    request = _moto_request(environ, body)
    for name in names:
        try:
            operation, uri_params = get_service_router(name).match(request)
        except Exception:
            continue
        protocol = _protocol(name, environ, body)
        return Call(
            service=name,
            operation=operation.name,
            region=region,
            signing_name=signing_name,
            protocol=protocol,
            access_key_id=access_key,
            signature_version=sigv,
            params=_parse(operation, protocol, request, uri_params, body),
        )
    return Call(
        service=names[0],
        region=region,
        signing_name=signing_name,
        protocol=_protocol(names[0], environ, body),
        access_key_id=access_key,
        signature_version=sigv,
    )


def _protocol(service: str, environ: Mapping[str, Any], body: bytes) -> str | None:
    from motobox.aws.models import environ_protocol

    try:
        return environ_protocol(service, environ, body)
    except Exception:
        return None


def _parse(
    operation: Any, protocol: str | None, request: Any, uri_params: dict[str, Any], body: bytes
) -> dict[str, Any] | None:
    from moto.core.parse import PROTOCOL_PARSERS

    parser_cls = PROTOCOL_PARSERS.get(protocol or "")
    if parser_cls is None:
        return None
    try:
        parsed = parser_cls(operation).parse(
            {
                "method": request.method,
                "values": request.values,
                "headers": request.headers,
                "body": body,  # the bytes already read, not a second copy from the stream
                "url_path": request.path,
                "url_params": uri_params,
            }
        )
    except Exception:
        return None
    return dict(parsed)


def _identify_cbor(base: Call, names: list[str], environ: Mapping[str, Any], body: bytes) -> Call:
    """smithy-rpc-v2-cbor names the operation in the path: ``/service/S/operation/Op``."""
    match = _CBOR_PATH.search(environ.get("PATH_INFO", ""))
    if not match or not names:
        return base
    target, operation = match.group(1), match.group(2)
    services = _index().services
    names = sorted(names, key=lambda n: services[n].target_prefix != target)
    params: dict[str, Any] | None = None
    try:
        import cbor2

        decoded = cbor2.loads(body) if body else {}
        params = decoded if isinstance(decoded, dict) else None
    except Exception:
        params = None
    return Call(
        service=names[0],
        operation=operation,
        region=base.region,
        signing_name=base.signing_name,
        protocol="smithy-rpc-v2-cbor",
        access_key_id=base.access_key_id,
        signature_version=base.signature_version,
        params=params,
    )


@functools.cache
def _payload_member(service: str, operation: str) -> str | None:
    from motobox.aws.models import service_model

    shape = service_model(service).operation_model(operation).input_shape
    return shape.serialization.get("payload") if shape is not None else None


def payload_member(call: Call) -> str | None:
    """The input member a REST operation sends as the whole body (S3 PutObject's ``Body``)."""
    if not call.service or not call.operation:
        return None
    try:
        return _payload_member(call.service, call.operation)
    except Exception:
        return None


def summarize_params(params: Mapping[str, Any], limit: int = 4096) -> dict[str, Any]:
    """A JSON-safe copy for the journal: long blobs and strings become size and sha256."""

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        if isinstance(value, bytes | bytearray):
            if len(value) > limit:
                return {"size": len(value), "sha256": hashlib.sha256(value).hexdigest()}
            try:
                return bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return {"base64": base64.b64encode(value).decode()}
        if isinstance(value, str) and len(value) > limit:
            data = value.encode()
            return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        if isinstance(value, datetime.datetime | datetime.date):
            return value.isoformat()
        if hasattr(value, "read"):  # a streaming body
            return {"stream": True}
        if value is None or isinstance(value, str | int | float | bool):
            return value
        return str(value)

    result = walk(params)
    assert isinstance(result, dict)
    return result
