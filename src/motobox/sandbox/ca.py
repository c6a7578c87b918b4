"""The per-run certificate authority, and the certificates it mints per server name.

One CA per run (``cryptography``, EC P-256: a key takes well under a millisecond, where
RSA-2048 takes about 45 ms). The CA's certificate goes to the program through the CA
variables; the servers motobox runs (``--tls``, the egress proxy's tunnels, the sealed run's
port 443) present a leaf certificate minted for the exact name asked for (a wildcard covers
one label only), cached per name.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class CertificateAuthority:
    def __init__(
        self, common_name: str = "motobox per-run CA", *, workdir: Path | None = None
    ) -> None:
        """``workdir``: where the certificate files the TLS contexts load go (a temporary
        folder of their own inside it; the system's temporary folder when None)."""
        now = datetime.datetime.now(datetime.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "motobox"),
            ]
        )
        self._name = name
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        self.cert_pem: bytes = self._cert.public_bytes(serialization.Encoding.PEM)
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._sni: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._dir = tempfile.TemporaryDirectory(prefix="motobox-ca-", dir=workdir)

    def write_bundle(self, path: Path, *, include_system: bool = False) -> Path:
        """Writes the CA (after the system's public CAs when ``include_system``) to ``path``."""
        data = b""
        if include_system:
            for candidate in SYSTEM_BUNDLES:
                p = Path(candidate)
                if p.exists():
                    data = p.read_bytes().rstrip(b"\n") + b"\n"
                    break
        path.write_bytes(data + self.cert_pem)
        return path

    def _leaf(self, hostname: str) -> tuple[bytes, bytes]:
        now = datetime.datetime.now(datetime.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        try:
            san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(hostname))
        except ValueError:
            san = x509.DNSName(hostname)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64])]))
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)

    def _files(self, hostname: str) -> tuple[Path, Path]:
        """Certificate chain and key files for ``hostname`` (called under ``self._lock``)."""
        cert, key = self._leaf(hostname)
        base = Path(self._dir.name) / f"{len(self._contexts)}-{id(cert)}"
        cert_file, key_file = base.with_suffix(".crt"), base.with_suffix(".key")
        cert_file.write_bytes(cert + self.cert_pem)
        key_file.write_bytes(key)
        return cert_file, key_file

    def server_context(self, hostname: str) -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate for ``hostname``."""
        hostname = hostname.lower().rstrip(".")
        with self._lock:
            ctx = self._contexts.get(hostname)
            if ctx is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(*self._files(hostname))
                self._contexts[hostname] = ctx
            return ctx

    def sni_context(self, default_hostname: str = "localhost") -> ssl.SSLContext:
        """A server context that presents, for each server name a client asks for (SNI), a
        certificate minted for that name (``default_hostname``'s when it asks for none).
        Made once per name: a CONNECT to a name seen before costs no key or certificate."""
        default_hostname = default_hostname.lower().rstrip(".")
        with self._lock:
            cached = self._sni.get(default_hostname)
            if cached is not None:
                return cached
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self._files(default_hostname))

        def pick(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: ssl.SSLContext) -> None:
            if name:
                sock.context = self.server_context(name)

        ctx.sni_callback = pick
        with self._lock:
            return self._sni.setdefault(default_hostname, ctx)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this CA."""
        return ssl.create_default_context(cadata=self.cert_pem.decode())
