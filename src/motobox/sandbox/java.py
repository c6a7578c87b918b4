"""Java programs trust the run's CA: a trust store with the system's CAs and the run's.

The JVM reads none of the PEM variables (``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``...) and not
the system bundle that a sealed run overlays: it trusts its own ``lib/security/cacerts``. So a
Java program under ``--seal`` (or against ``--tls``) failed every https call with ``PKIX path
building failed``. ``build_program_env`` now gives every program

    JAVA_TOOL_OPTIONS=<the user's own options> -Djavax.net.ssl.trustStore=<state>/java/cacerts.jks
                      -Djavax.net.ssl.trustStoreType=JKS -Djavax.net.ssl.trustStorePassword=changeit

    system bundle (PEM) --base64--> DER entries (made once per process) --+
    run's CA (PEM)      --base64--> one more entry -----------------------+--> cacerts.jks (per run)

Choices, and what they cost:

* ``JAVA_TOOL_OPTIONS`` is read by every JVM however it is started (``java``, Gradle, Maven,
  a launcher script, a JDK in any folder), sealed or not; our options come after the user's, so
  they win over a trust store the user set (whose store would lack the run's CA anyway; its
  password goes too, since the JVM checks our store's integrity with it). The
  price: each JVM prints ``Picked up JAVA_TOOL_OPTIONS: ...`` on stderr. Overlaying the JVM's
  ``cacerts`` in the sealed run's mount namespace would be silent, but only for JVMs motobox can
  find (``JAVA_HOME``, ``PATH``, ``/usr/lib/jvm``), and only when sealed.
* The store is written here, not with ``keytool`` (a JVM start, ~0.5 s, per run). The JKS format
  for trusted certificates is small and has not changed since JDK 1.2: entries of (alias, date,
  ``X.509``, DER), then a SHA-1 over the password, ``Mighty Aphrodite`` and the rest. Every JVM
  reads it (JDK 9+ through ``keystore.type.compat``, and with the type named explicitly).
  cryptography's ``serialize_java_truststore`` (45+) writes a PKCS#12 store with Java's
  trusted-certificate attribute, but it needs every system certificate parsed (Debian's bundle
  holds one with a non-positive serial number that cryptography warns it will refuse) and took
  ~20 ms a run for 144 certificates, against ~1 ms here. A PKCS#12 file without that attribute
  (what ``openssl pkcs12`` writes) loads as an empty trust store in Java 17.
* The certificates are copied from PEM to DER without parsing them (~1 ms for the system's
  bundle); the system's part is made once per process, the run's store in well under 1 ms.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import os
import struct
import threading
import time
from collections.abc import Iterable
from pathlib import Path

SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
PASSWORD = "changeit"  # the JDK's own cacerts password; a trust store's entries are not secret
_BEGIN, _END = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
_MAGIC, _VERSION, _TRUSTED_CERT = 0xFEEDFEED, 2, 2


def pem_certificates(pem: bytes) -> list[bytes]:
    """The DER bytes of every certificate in a PEM bundle (split by hand: a regular expression
    took 13 ms for the system's 220 KB bundle, this 1 ms)."""
    ders = []
    for part in pem.split(_END)[:-1]:
        start = part.find(_BEGIN)
        if start >= 0:
            ders.append(binascii.a2b_base64(part[start + len(_BEGIN) :]))  # skips line breaks
    return ders


def _utf(text: str) -> bytes:
    raw = text.encode("utf-8")  # aliases and "X.509" are ASCII: modified UTF-8 is plain UTF-8
    return struct.pack(">H", len(raw)) + raw


def _entry(alias: str, der: bytes, millis: int) -> bytes:
    return (
        struct.pack(">I", _TRUSTED_CERT)
        + _utf(alias.lower())  # JKS keeps aliases in lower case
        + struct.pack(">Q", millis)
        + _utf("X.509")
        + struct.pack(">I", len(der))
        + der
    )


def jks(entries: Iterable[bytes], count: int, password: str = PASSWORD) -> bytes:
    """A JKS key store of ``count`` already encoded trusted-certificate ``entries``."""
    body = struct.pack(">III", _MAGIC, _VERSION, count) + b"".join(entries)
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(password.encode("utf-16-be") + b"Mighty Aphrodite" + body)
    return body + digest.digest()


@functools.cache
def _system_entries() -> tuple[bytes, ...]:
    for bundle in SYSTEM_BUNDLES:
        path = Path(bundle)
        if path.exists():
            millis = int(path.stat().st_mtime * 1000)
            ders = pem_certificates(path.read_bytes())
            return tuple(_entry(f"system-{i}", der, millis) for i, der in enumerate(ders))
    return ()


def trust_store(ca_pem: bytes) -> bytes:
    """A JKS trust store: the system's CAs and the certificates in ``ca_pem``."""
    system = _system_entries()
    now = int(time.time() * 1000)
    own = [_entry(f"motobox-{i}", der, now) for i, der in enumerate(pem_certificates(ca_pem))]
    return jks([*system, *own], len(system) + len(own))


def tool_options(state_dir: Path, ca_bundle: Path, existing: str | None) -> str:
    """``JAVA_TOOL_OPTIONS`` for a program of this run: ``existing`` (the user's), then the
    trust store, written into ``state_dir`` the first time."""
    store = state_dir / "java" / "cacerts.jks"
    if not store.exists():
        store.parent.mkdir(parents=True, exist_ok=True)
        partial = store.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        partial.write_bytes(trust_store(ca_bundle.read_bytes()))
        partial.replace(store)  # programs started at once never read half a store
    path = str(store)
    if any(c.isspace() for c in path):
        path = f'"{path}"'  # HotSpot splits JAVA_TOOL_OPTIONS on spaces outside quotes
    ours = (
        f"-Djavax.net.ssl.trustStore={path} -Djavax.net.ssl.trustStoreType=JKS "
        f"-Djavax.net.ssl.trustStorePassword={PASSWORD}"
    )
    return f"{existing} {ours}" if existing and existing.strip() else ours
