"""Java: a program on the JDK's own HttpClient calls https://sts.amazonaws.com/ sealed. The JVM
reads no PEM variable, only its trust store; motobox gives it one with the system's CAs and the
run's (``motobox.sandbox.java``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, read_journal
from motobox.sandbox import java
from motobox.sandbox.ca import CertificateAuthority
from motobox.sandbox.environment import build_program_env
from real_clients import run_client, tail

PROGRAM = ROOT / "tests" / "java" / "CallerIdentity.java"


def jdk_tool(name: str) -> str:
    """A tool of the machine's JDK (11+: ``java File.java`` runs a source file); make does not
    install one."""
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not on PATH: install a JDK 11 or later", pytrace=False)
    return found


def test_a_java_httpclient_program_trusts_the_run_ca_and_calls_sts_sealed(tmp_path: Path) -> None:
    jvm = jdk_tool("java")
    journal = tmp_path / "j.jsonl"
    done = run_client([jvm, str(PROGRAM)], sealed=True, journal=journal)
    assert done.returncode == 0, tail(done)
    assert done.stdout.splitlines()[:2] == ["status 200", "account 123456789012"]
    records = read_journal(journal)
    assert [(r["service"], r["operation"]) for r in records if r["kind"] == "aws"] == [
        ("sts", "GetCallerIdentity")
    ]
    assert "sts.amazonaws.com" in {r["name"] for r in records if r["kind"] == "dns"}


def test_the_java_trust_store_holds_the_system_cas_and_the_runs_and_checks_out(
    tmp_path: Path,
) -> None:
    """keytool (the JDK's own reader) lists every system CA and the run's, with the store's
    integrity checked against its password."""
    keytool = jdk_tool("keytool")
    ca = CertificateAuthority(workdir=tmp_path)
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    options = java.tool_options(tmp_path, bundle, None)
    store = options.split()[0].removeprefix("-Djavax.net.ssl.trustStore=")
    listed = subprocess.run(
        [keytool, "-list", "-keystore", store, "-storepass", java.PASSWORD],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    system = next(Path(b) for b in java.SYSTEM_BUNDLES if Path(b).exists())
    count = system.read_bytes().count(b"-----BEGIN CERTIFICATE-----")
    assert f"Your keystore contains {count + 1} entries" in listed.stdout
    assert "motobox-0, " in listed.stdout and "trustedCertEntry" in listed.stdout


def test_a_users_java_tool_options_are_kept_before_the_trust_store(tmp_path: Path) -> None:
    ca = CertificateAuthority(workdir=tmp_path)
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    env = build_program_env(
        {"JAVA_TOOL_OPTIONS": "-Xmx64m", "PATH": "/usr/bin"},
        endpoint_url="http://127.0.0.1:1",
        credentials=None,
        state_dir=tmp_path,
        ca_bundle=bundle,
        legacy_redirect=False,
    )
    options = env["JAVA_TOOL_OPTIONS"].split()
    assert options[0] == "-Xmx64m"
    store = Path(options[1].removeprefix("-Djavax.net.ssl.trustStore="))
    assert store.is_file() and store.is_relative_to(tmp_path)
    assert "-Djavax.net.ssl.trustStoreType=JKS" in options
