"""The ``motobox`` command line: ``run``, ``serve``, ``check``, ``action``, ``doctor``.

Exit codes: ``run`` passes the program's exit code through (128+N when signal N killed it,
124 on ``--timeout``, 127 when the command does not exist); with expectations in a scenario it
exits 0 when all hold and 1 when one fails. 2 is motobox's own usage or configuration error,
found before the program starts, printed as one line: ``motobox: <what>; <what to do>``.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from motobox import __version__
from motobox.errors import UsageError

EPILOG_RUN = """examples:
  motobox run -- aws s3 ls
  motobox run --journal calls.jsonl -- taskcat test run
  motobox run --scenario scenarios/taskcat/create-failed.yaml -- taskcat test run

The program gets AWS_ENDPOINT_URL (and, for old SDKs, AWS_DATA_PATH) pointing at the embedded
cloud, fake credentials, and HTTP(S)_PROXY pointing at motobox's egress control: AWS hosts are
answered by the mock, every other host gets HTTP 403 unless a scenario stubs it."""


EPILOG_ACTION = """examples:
  motobox action . --input commands='test run' --scenario scenarios/taskcat/create-failed.yaml
  motobox action path/to/action --input name=value --workspace my-repo

Composite steps get inputs only through ${{ inputs.NAME }} (no INPUT_* variables), as on GitHub.
actions/upload-artifact copies into WORKSPACE/.motobox-artifacts/NAME; other `uses:` steps are
recorded, not run. Exit code: 0 when every step succeeded, else the first failed step's; with
a scenario that has an expect: block, 0 when every expectation holds, else 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"motobox: {message} (see '{self.prog} --help')\n")


def _add_cloud_options(p: argparse.ArgumentParser, *, program: bool) -> None:
    p.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="FILE",
        help="scenario file: forced answers, egress stubs, set-up, expectations (repeatable; "
        "files combine in order)",
    )
    p.add_argument("--journal", metavar="FILE", help="write every call as JSON Lines to FILE")
    p.add_argument("--port", type=int, default=0, help="port of the embedded cloud (default: free)")
    p.add_argument("--tls", action="store_true", help="serve the cloud over HTTPS (per-run CA)")
    p.add_argument(
        "--account", default="123456789012", metavar="ID", help="AWS account the program acts in"
    )
    p.add_argument("--region", default="us-east-1", help="default region of the program")
    p.add_argument(
        "--backend",
        metavar="URL",
        help="send AWS calls to an external moto server (e.g. http://127.0.0.1:5000) instead "
        "of the embedded one; the journal stays complete",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="motobox",
        description="Run an unmodified program against an embedded moto cloud: force AWS "
        "answers, stub the internet, record every call.",
    )
    parser.add_argument("--version", action="version", version=f"motobox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run a program against the embedded cloud",
        description="Run COMMAND against the embedded cloud and exit with its exit code.",
        epilog=EPILOG_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_cloud_options(run, program=True)
    run.add_argument(
        "--timeout", type=float, metavar="S", help="end the program after S seconds (exit 124)"
    )
    run.add_argument("--junit", metavar="FILE", help="write the expectation report as JUnit XML")
    run.add_argument(
        "--seal",
        action="store_true",
        help="run the program in a network namespace of its own where every name resolves "
        "to motobox (needs root)",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG...]")

    serve = sub.add_parser(
        "serve",
        help="serve the embedded cloud until Ctrl-C and print the export lines to use it",
        description="Serve the embedded cloud and egress proxy; prints `export ...` lines for "
        'your shell (eval "$(motobox serve)" in another terminal won\'t work: it keeps running; '
        "copy the lines instead).",
    )
    _add_cloud_options(serve, program=False)

    check = sub.add_parser("check", help="validate scenario files (exit 0 or 2)")
    check.add_argument("files", nargs="+", metavar="FILE")

    sub.add_parser("doctor", help="what this machine allows: sealing, TLS, tool environments")

    action = sub.add_parser(
        "action",
        help="run a GitHub composite Action locally, the way the runner does",
        description="Run the composite Action in PATH (default: the current folder) the way the\n"
        "GitHub runner does, without Docker, and print its answer: exit code, outputs,\n"
        "annotations, artifacts, step summary and how many values were masked.",
        epilog=EPILOG_ACTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    action.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="folder with action.yml (default: .)"
    )
    action.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input of the Action (repeatable); defaults come from action.yml",
    )
    action.add_argument(
        "--workspace", metavar="DIR", help="GITHUB_WORKSPACE (default: the current folder)"
    )
    action.add_argument(
        "--tool-cache",
        metavar="DIR",
        help="RUNNER_TOOL_CACHE, kept between runs (default: ~/.cache/motobox/toolcache)",
    )
    action.add_argument(
        "--cloud",
        action="store_true",
        help="run the whole Action inside motobox (implied by --scenario, --account, --journal)",
    )
    action.add_argument(
        "--scenario", action="append", default=[], metavar="FILE", help="scenario file (repeatable)"
    )
    action.add_argument("--journal", metavar="FILE", help="write every AWS call to FILE")
    action.add_argument("--account", metavar="ID", help="AWS account the Action acts in")
    action.add_argument("--region", default="us-east-1", help="default region (us-east-1)")
    action.add_argument(
        "--seal",
        action="store_true",
        help="run every step in a network namespace of its own where every name resolves to "
        "motobox (needs root)",
    )
    action.add_argument("--debug", action="store_true", help="show ::debug:: lines")
    return parser


def _print_exports(env: dict[str, str]) -> None:
    import shlex

    keys = sorted(k for k in env if k.startswith("AWS_") or k.lower().endswith("_proxy"))
    keys += [
        k
        for k in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "DOCKER_HOST")
        if k in env
    ]
    for key in keys:
        print(f"export {key}={shlex.quote(env[key])}")
    print("unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN")
    sys.stdout.flush()


def _cloud(args: argparse.Namespace) -> Any:
    from motobox.cloud import Cloud

    return Cloud(
        seal=getattr(args, "seal", False),
        scenarios=args.scenario,
        journal=args.journal,
        port=args.port,
        account=args.account,
        region=args.region,
        backend=args.backend,
        tls=args.tls,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("no command to run; write it after --, e.g. motobox run -- aws s3 ls")
    with _cloud(args) as cloud:
        _started()
        expect = cloud.scenario.expect is not None
        result = cloud.run(argv, timeout=args.timeout, capture=expect, tee=expect)
    if result.report is None:
        if args.junit:
            raise UsageError("--junit needs a scenario with an expect: block")
        return int(result.exit_code)
    print(result.report.text(), file=sys.stderr)
    if args.junit:
        result.report.write_junit(args.junit, suite=cloud.scenario.name or "motobox")
    return 0 if result.report.passed else 1


def _cmd_serve(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with _cloud(args) as cloud:
        _print_exports(cloud.env(os.environ))
        print(f"# motobox: cloud at {cloud.endpoint_url}, Ctrl-C to stop", file=sys.stderr)
        _started()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from motobox.scenario.load import check_command

    return check_command(args.files)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from motobox.doctor import doctor

    return doctor()


def _cmd_action(args: argparse.Namespace) -> int:
    from motobox.action import run_action

    inputs = {}
    for item in args.input:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                f"--input {item!r} is not NAME=VALUE; e.g. --input commands='test run'"
            )
        inputs[name.strip()] = value
    result = run_action(
        args.path,
        inputs,
        workspace=args.workspace,
        tool_cache=args.tool_cache,
        echo=lambda line: print(line, flush=True),
        debug=args.debug,
        cloud=args.cloud,
        scenarios=args.scenario,
        account=args.account,
        journal=args.journal,
        region=args.region,
        seal=args.seal,
    )
    print("\n== motobox action: the Action's answer", flush=True)
    print(result.report(), flush=True)
    if result.expectations is not None:  # the scenario is a test of the Action
        print(result.expectations.text(), file=sys.stderr, flush=True)
        return 0 if result.expectations.passed else 1
    return result.exit_code


COMMANDS = {
    "run": _cmd_run,
    "serve": _cmd_serve,
    "check": _cmd_check,
    "doctor": _cmd_doctor,
    "action": _cmd_action,
}


def main(argv: Sequence[str] | None = None) -> int:
    global _gc_paused
    # Importing moto (~700 modules) sets off ~150 collections of the cyclic garbage collector
    # that find next to nothing (20-40 ms). When motobox is the program (no ``argv`` given),
    # the collector is paused until the cloud answers; then what start-up made is frozen (never
    # scanned again: it lives as long as the process) and the collector resumes (``_started``).
    _gc_paused = argv is None and gc.isenabled()
    if _gc_paused:
        gc.disable()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
        if args.command not in ("run", "serve"):
            _started()
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"motobox: {exc.line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    finally:
        _started()


_gc_paused = False


def _started() -> None:
    """Start-up is over: what it made is frozen and the garbage collector runs again, if
    ``main`` paused it."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


def entry() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    entry()
