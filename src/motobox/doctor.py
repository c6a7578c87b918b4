"""``motobox doctor``: what this machine allows, and which black-box tools were found."""

from __future__ import annotations

import shutil
import ssl
import sys


def _line(ok: bool, what: str, detail: str) -> str:
    return f"{'ok ' if ok else 'no '} {what:<22} {detail}"


def doctor() -> int:
    from motobox.sandbox.process import supervision_mode

    lines = [f"motobox on Python {sys.version.split()[0]}, {ssl.OPENSSL_VERSION}"]
    mode = supervision_mode()
    lines.append(
        _line(
            mode == "pid-namespace",
            "process supervision",
            f"{mode} (programs and everything they start end with the run)",
        )
    )
    from motobox.sandbox.seal import can_seal

    sealing, why = can_seal()
    lines.append(_line(sealing, "sealing", why))
    lines.append(_line(True, "TLS", "per-run CA with EC P-256 keys (--tls, egress proxy)"))
    for name in ("taskcat", "aws", "node", "npm", "java"):
        found = shutil.which(name)
        lines.append(_line(bool(found), name, found or "not found on PATH"))
    print("\n".join(lines))
    return 0
