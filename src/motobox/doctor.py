"""``motobox doctor``: what this machine allows the current user, and which tools were found.

Each line is tried for real where it can be: supervision by the probe ``process`` makes once
per process; sealing by a sealed run of ``true`` (``seal.can_seal``), which names the path it
took (``seal: root`` or ``seal: userns``) or the one line ``--seal`` would exit 2 with.
"""

from __future__ import annotations

import shutil
import ssl
import sys


def _line(ok: bool, what: str, detail: str) -> str:
    return f"{'ok ' if ok else 'no '} {what:<22} {detail}"


def doctor() -> int:
    from motobox.sandbox.process import supervision_mode
    from motobox.sandbox.seal import can_seal

    lines = [f"motobox on Python {sys.version.split()[0]}, {ssl.OPENSSL_VERSION}"]
    sealing, why = can_seal()
    why = why.removeprefix("--seal: ")
    mode = supervision_mode()
    if mode == "pid-namespace":
        detail = "pid-namespace (everything a program starts ends with the run)"
    else:
        detail = (
            "subreaper (everything a program starts ends with the run, even when motobox is "
            "killed; sealed runs: "
            + ("a PID namespace in the run's user namespace)" if sealing else "unavailable)")
        )
    lines.append(_line(True, "process supervision", detail))
    lines.append(_line(sealing, "sealing", why))
    lines.append(_line(True, "TLS", "per-run CA with EC P-256 keys (--tls, egress proxy)"))
    for name in ("taskcat", "aws", "node", "npm", "java"):
        found = shutil.which(name)
        lines.append(_line(bool(found), name, found or "not found on PATH"))
    print("\n".join(lines))
    return 0
