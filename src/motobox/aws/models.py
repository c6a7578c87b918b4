"""botocore's data as motobox reads it: one model loader, its service models, the endpoint data.

    loader()               one model loader for the process: moto's search paths and extras,
                           the service list kept in the user's cache; moto reads through it
                           too (``emulation.core``), so a model read for a scenario check, a
                           rule or moto is read once
    service_model(name)    a service's model (loaded when first asked for, straight from the
                           loader: a botocore Session would cost ~9 ms of the first call and
                           adds nothing here, no handler of its ``service-data-loaded``
                           event exists)
    endpoints_text()       the installed botocore's ``endpoints.json``
    dns_suffixes()         every DNS suffix of every partition (``amazonaws.com``, ``api.aws``,
                           ``amazonaws.com.cn``...)
    request_protocol(...)  which of a service's wire protocols a request speaks (json,
                           rest-json, rest-xml, query, ec2, smithy-rpc-v2-cbor), read off the
                           request: the one detector identify, the rules and the gateway use
    is_api_host(host)      whether ``host`` names an AWS API: a DNS suffix of a partition and a
                           label that is a service's endpoint prefix (or the first label of
                           one of the endpoint data's host names, such as SQS's legacy
                           ``queue``). ``cdk-cli-telemetry.us-east-1.api.aws`` is not one: it
                           goes to the egress control, not to moto.

Loading all ~445 service models takes ~3 s, so nothing here loads a model it is not asked
for; the endpoint data is one ~1 MB JSON file, read once.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from motobox import usercache

_lock = threading.Lock()


def _new_loader() -> Any:
    """A botocore loader with moto's search paths and extras (``moto.core.loaders.Loader``,
    written out here so that ``motobox check`` need not import moto: importing it imports
    boto3, s3transfer and asyncio, ~0.5 s), whose list of services with a ``service-2`` model
    comes from the user's cache when the search paths hold only botocore's and moto's own data
    (a user's ``~/.aws/models`` is listed afresh every time)."""
    import importlib.metadata
    import importlib.util
    import os

    from botocore.loaders import Loader

    spec = importlib.util.find_spec("moto")
    moto_root = os.path.dirname(spec.origin) if spec and spec.origin else None
    moto_version = importlib.metadata.version("moto")

    class CachedListLoader(Loader):
        BUILTIN_EXTRAS_TYPES = ["moto"]
        listed: list[str] | None = None

        def _find_extras(self, service_name: str, type_name: str, api_version: str) -> Any:
            yield from super()._find_extras(service_name.replace("-", ""), type_name, api_version)

        def list_available_services(self, type_name: str) -> list[str]:
            own = {os.path.realpath(p) for p in (self.BUILTIN_DATA_PATH, moto_root) if p}
            if type_name != "service-2" or any(
                os.path.realpath(p) not in own and os.path.isdir(p) for p in self.search_paths
            ):
                return list(super().list_available_services(type_name))
            if self.listed is None:
                self.listed = usercache.cached(
                    "model-services",
                    f"{usercache.botocore_tag()}-moto{moto_version}",
                    lambda: super(CachedListLoader, self).list_available_services(type_name),
                    functools.partial(usercache.is_list_of, str),
                )
            return list(self.listed)

    return CachedListLoader(extra_search_paths=[moto_root] if moto_root else [])


@functools.cache
def loader() -> Any:
    """The one model loader of the process: moto reads models through it
    (``emulation.core.fix_service_model_loader``), and so does ``service_model()``."""
    return _new_loader()


@functools.cache
def service_model(service: str) -> Any:
    from botocore.model import ServiceModel

    with _lock:
        return ServiceModel(loader().load_service_model(service, "service-2"), service)


@functools.cache
def service_names() -> tuple[str, ...]:
    return tuple(loader().list_available_services("service-2"))


@functools.cache
def endpoints_text() -> str:
    """The installed botocore's ``endpoints.json`` (plain or gzipped), as text."""
    data = usercache.botocore_data()
    path = data / "endpoints.json"
    raw = (
        path.read_bytes()
        if path.exists()
        else gzip.decompress((data / "endpoints.json.gz").read_bytes())
    )
    return raw.decode("utf-8")


@functools.cache
def _endpoints() -> dict[str, Any]:
    return dict(json.loads(endpoints_text()))


@functools.cache
def dns_suffixes() -> tuple[str, ...]:
    """Every DNS suffix of every partition, longest first."""
    suffixes: set[str] = {"api.aws"}
    for partition in _endpoints()["partitions"]:
        for key in ("dnsSuffix", "dualStackDnsSuffix"):
            if partition.get(key):
                suffixes.add(partition[key])
        for variant in partition.get("defaults", {}).get("variants", []):
            if variant.get("dnsSuffix"):
                suffixes.add(variant["dnsSuffix"])
    return tuple(sorted(suffixes, key=len, reverse=True))


_PLACEHOLDER = re.compile(r"\{[^}]*\}")


@functools.cache
def _api_labels() -> frozenset[str]:
    """Labels that name an AWS API in a host name."""
    labels: set[str] = set()

    def add_template(template: str) -> None:
        for label in template.split("."):
            if label and not _PLACEHOLDER.search(label):
                labels.add(label)
                break  # the first literal label names the API (``{region}.queue.{dnsSuffix}``)

    for partition in _endpoints()["partitions"]:
        for service, spec in partition.get("services", {}).items():
            labels.add(service)
            for endpoint in [spec.get("defaults", {}), *spec.get("endpoints", {}).values()]:
                for key in ("hostname", "sslCommonName"):
                    if endpoint.get(key):
                        add_template(endpoint[key])
                for variant in endpoint.get("variants", []):
                    if variant.get("hostname"):
                        add_template(variant["hostname"])
    from motobox.aws.identify import endpoint_prefixes

    labels |= endpoint_prefixes()
    return frozenset(labels)


def host_name(authority: str) -> str:
    """``Host`` field or authority -> the host name alone, lower case, no trailing dot."""
    if authority.startswith("["):
        return authority[1:].partition("]")[0].lower()
    host, sep, port = authority.rpartition(":")
    name = host if sep and port.isdigit() else authority
    return name.lower().rstrip(".")


def aws_suffix(host: str) -> str | None:
    """The partition DNS suffix ``host`` ends with, or None."""
    name = host_name(host)
    return next((s for s in dns_suffixes() if name == s or name.endswith("." + s)), None)


@functools.lru_cache(maxsize=4096)
def is_api_host(host: str) -> bool:
    """Whether ``host`` names an AWS API (see the module docstring); kept per host. An
    address or ``localhost`` (the cloud's own endpoint) is answered without reading the
    endpoint data (~7 ms, the first time)."""
    name = host_name(host)
    if name == "localhost" or _is_address(name):
        return False
    suffix = aws_suffix(name)
    if suffix is None or name == suffix:
        return False
    labels = _api_labels()
    for label in name[: -len(suffix) - 1].split("."):
        if label in labels or (label.endswith("-fips") and label[:-5] in labels):
            return True
    return False


def _is_address(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


CBOR = "smithy-rpc-v2-cbor"


def request_protocol(
    service_model: Any,
    headers: Mapping[str, str],
    method: str = "POST",
    path: str = "/",
    query: str = "",
    body: bytes = b"",
) -> str:
    """The protocol of ``service_model`` that this request speaks."""
    lower = {k.lower(): v for k, v in headers.items()}
    protocols = list(service_model.metadata.get("protocols") or [service_model.protocol])
    if lower.get("smithy-protocol") == "rpc-v2-cbor" and CBOR in protocols:
        return CBOR
    content_type = lower.get("content-type", "").split(";")[0].strip()
    if content_type.startswith("application/x-amz-json") and "json" in protocols:
        return "json"
    if "x-amz-target" in lower and "json" in protocols:
        return "json"
    if content_type == "application/x-www-form-urlencoded" or "Action=" in query:
        for p in ("ec2", "query"):
            if p in protocols:
                return p
    for p in ("rest-json", "rest-xml"):
        if p in protocols:
            return p
    return str(service_model.protocol)


def environ_protocol(service: str, environ: Mapping[str, Any], body: bytes = b"") -> str:
    """``request_protocol`` of a WSGI request to ``service``."""
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    headers["content-type"] = environ.get("CONTENT_TYPE", "")
    return request_protocol(
        service_model(service),
        headers,
        environ.get("REQUEST_METHOD", "POST"),
        environ.get("PATH_INFO", "/"),
        environ.get("QUERY_STRING", ""),
        body,
    )
