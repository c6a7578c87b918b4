"""``python -m taskcat_action run`` (the Action's step) or ``install --tool-cache DIR``."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["install"]:
        from taskcat_action.install import main as install

        return install(argv[1:])
    if argv[:1] in (["run"], []):
        from taskcat_action.run import main as run

        return run()
    print(
        "usage: python -m taskcat_action run | install --tool-cache DIR [--with-motobox SRC]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
