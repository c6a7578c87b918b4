"""The program's environment: redirected to the mock, isolated from real AWS.

``build_program_env`` starts from the parent's environment and

  1. drops every ``AWS_*`` variable (keys, session tokens, profiles, roles, web identity,
     container credentials, per-service endpoints...) except a short allow-list of
     behaviour settings, and every proxy variable;
  2. points the SDK at the mock: ``AWS_ENDPOINT_URL`` (botocore >= 1.31, AWS CLI v1/v2, the
     JavaScript SDK v3) and ``AWS_DATA_PATH`` with generated endpoint data for older botocore
     (``endpoint-rule-set-1.json`` per service for 1.28-1.30, ``endpoints.json`` below 1.28);
  3. gives it fake credentials (or none), a region, and config/credentials files of its own,
     so ``~/.aws`` is never read, and turns instance metadata off;
  4. replaces every CA variable with the per-run bundle, gives the JVM (which reads none of
     them) a trust store with the system's CAs and the run's (``java.tool_options``), and sets
     the egress proxy;
  5. points Docker clients at motobox's stand-in engine (``docker.DockerStandIn``) unless the
     user's environment names an engine itself (``DOCKER_HOST`` or ``DOCKER_CONTEXT``).

The legacy endpoint data is written once per run into the run's state folder (the port
changes per run); it costs a few milliseconds (measured in ``tests/test_environment.py``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from motobox import usercache
from motobox.aws.models import endpoints_text
from motobox.sandbox import java

#: AWS_* settings that change behaviour, not identity or destination: kept.
ALLOWED_AWS = frozenset(
    {
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "AWS_DEFAULT_OUTPUT",
        "AWS_CLI_AUTO_PROMPT",
        "AWS_NODEJS_CONNECTION_REUSE_ENABLED",
        "AWS_SDK_LOAD_CONFIG",
    }
)
CA_VARIABLES = (
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "AWS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)
#: Variables by which a user names a Docker engine of their own: then motobox's stand-in is
#: not used.
DOCKER_CHOICE = ("DOCKER_HOST", "DOCKER_CONTEXT")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def _drop(name: str) -> bool:
    if name.startswith("AWS_") and name not in ALLOWED_AWS:
        return True
    if name == "MOTOBOX_CLOUD":  # a motobox the program starts makes its own cloud
        return True
    return name.upper() in PROXY_VARIABLES


def build_program_env(
    parent: Mapping[str, str],
    *,
    endpoint_url: str,
    region: str = "us-east-1",
    credentials: Credentials | None,
    state_dir: Path,
    ca_bundle: Path | None = None,
    proxy_url: str | None = None,
    legacy_redirect: bool = True,
    docker_host: str | None = None,
) -> dict[str, str]:
    env = {k: v for k, v in parent.items() if not _drop(k)}
    aws_dir = state_dir / "aws"
    aws_dir.mkdir(parents=True, exist_ok=True)
    config = aws_dir / "config"
    config.write_text(f"[default]\nregion = {region}\n")
    shared = aws_dir / "credentials"
    if credentials is not None:
        lines = [
            "[default]",
            f"aws_access_key_id = {credentials.access_key_id}",
            f"aws_secret_access_key = {credentials.secret_access_key}",
        ]
        if credentials.session_token:
            lines.append(f"aws_session_token = {credentials.session_token}")
        shared.write_text("\n".join(lines) + "\n")
        env["AWS_ACCESS_KEY_ID"] = credentials.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = credentials.secret_access_key
        if credentials.session_token:
            env["AWS_SESSION_TOKEN"] = credentials.session_token
    else:
        shared.write_text("")
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(shared),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        }
    )
    if legacy_redirect:
        data = state_dir / "data"
        write_legacy_endpoint_data(data, endpoint_url)
        env["AWS_DATA_PATH"] = str(data)
    if ca_bundle is not None:
        for name in CA_VARIABLES:
            env[name] = str(ca_bundle)
        env["JAVA_TOOL_OPTIONS"] = java.tool_options(
            state_dir, ca_bundle, env.get("JAVA_TOOL_OPTIONS")
        )
    else:
        for name in CA_VARIABLES:
            env.pop(name, None)
    if proxy_url:
        host = urlsplit(endpoint_url).hostname or "127.0.0.1"
        no_proxy = ",".join(dict.fromkeys([host, "127.0.0.1", "localhost"]))
        for name in ("HTTP_PROXY", "HTTPS_PROXY"):
            env[name] = env[name.lower()] = proxy_url
        env["NO_PROXY"] = env["no_proxy"] = no_proxy
    if docker_host and not any(env.get(name) for name in DOCKER_CHOICE):
        env["DOCKER_HOST"] = docker_host
    return env


_ENDPOINT = {"ref": "Endpoint"}


def _rule(conditions: list[Any], url: str) -> dict[str, Any]:
    return {"conditions": conditions, "endpoint": {"url": url}, "type": "endpoint"}


def _rule_set(url: str, *, bucket_in_path: bool = False) -> str:
    """An endpoint rule set (botocore 1.28-1.30) that answers the mock's ``url``, unless the
    program named an endpoint itself (``endpoint_url=``: then that one, as botocore would).
    For S3 the bucket stays in the path (path-style), as the mock expects."""
    is_set = {"fn": "isSet", "argv": [_ENDPOINT]}
    parameters: dict[str, Any] = {
        "Region": {"builtIn": "AWS::Region", "required": False, "type": "String"},
        "Endpoint": {"builtIn": "SDK::Endpoint", "required": False, "type": "String"},
    }
    rules = []
    if bucket_in_path:
        parameters["Bucket"] = {"required": False, "type": "String"}
        has_bucket = {"fn": "isSet", "argv": [{"ref": "Bucket"}]}
        rules += [
            _rule([is_set, has_bucket], "{Endpoint}/{Bucket}"),
            _rule([has_bucket], url + "/{Bucket}"),
        ]
    rules += [_rule([is_set], "{Endpoint}"), _rule([], url)]
    return json.dumps({"version": "1.0", "parameters": parameters, "rules": rules})


_HOSTNAME = re.compile(r'("hostname"\s*:\s*)"[^"]*"')
_PROTOCOLS = re.compile(r'("protocols"\s*:\s*)\[[^\]]*\]')


@functools.cache
def _endpoints_json(endpoint_url: str) -> str:
    """``endpoints.json`` for botocore < 1.28: botocore's own, every hostname on the mock.

    Rewriting the real file (rather than writing a minimal one) keeps the region lists and
    partitions that newer botocore also reads from ``AWS_DATA_PATH``. The text is rewritten
    (every ``hostname`` and ``protocols`` value), a fifth of the time a JSON walk takes."""
    parts = urlsplit(endpoint_url)
    text = _HOSTNAME.sub(lambda m: f'{m.group(1)}"{parts.netloc}"', endpoints_text())
    return _PROTOCOLS.sub(lambda m: f'{m.group(1)}["{parts.scheme}"]', text)


_written_lock = threading.Lock()
_written: set[tuple[str, str]] = set()


def write_legacy_endpoint_data(data_dir: Path, endpoint_url: str) -> None:
    """Endpoint data that redirects botocore which predates ``AWS_ENDPOINT_URL``; written once
    per folder and URL, however many programs of one cloud start at once."""
    key = (str(data_dir), endpoint_url)
    with _written_lock:
        if key in _written and data_dir.is_dir():
            return
        _write_legacy_endpoint_data(data_dir, endpoint_url)
        _written.add(key)


def _write_legacy_endpoint_data(data_dir: Path, endpoint_url: str) -> None:
    """Two rule sets (S3's keeps the bucket in the path), each written once and hard-linked
    into every service's folder: ~960 folders and links in ~5 ms where writing each file
    took ~20."""
    url = endpoint_url.rstrip("/")
    os.makedirs(data_dir, exist_ok=True)
    sources = {}
    for name, text in (("plain", _rule_set(url)), ("s3", _rule_set(url, bucket_in_path=True))):
        sources[name] = os.path.join(data_dir, f".rule-set-{name}.json")
        with open(sources[name], "w") as f:
            f.write(text)
    for service, versions in usercache.botocore_model_folders():
        with contextlib.suppress(FileExistsError):
            os.mkdir(os.path.join(data_dir, service))
        for version in versions:
            folder = os.path.join(data_dir, service, version)
            target = os.path.join(folder, "endpoint-rule-set-1.json")
            try:
                os.mkdir(folder)
            except FileExistsError:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(target)
            os.link(sources["s3" if service == "s3" else "plain"], target)
    (data_dir / "endpoints.json").write_text(_endpoints_json(endpoint_url))
