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
from pathlib import Path
from typing import Any, NoReturn

from motobox import __version__
from motobox.control import ENV as CLOUD_ENV
from motobox.errors import UsageError

EMBEDDED = "embedded"
RULE_EXAMPLE = '{"match": {"operation": "sts:GetCallerIdentity"}, "reset": "before", "times": 1}'

EPILOG_RUN = """examples:
  motobox run -- aws s3 ls
  motobox run --journal calls.jsonl -- taskcat test run
  motobox run --scenario scenarios/taskcat/create-failed.yaml -- taskcat test run

The program gets AWS_ENDPOINT_URL (and, for old SDKs, AWS_DATA_PATH) pointing at the embedded
cloud, fake credentials, and HTTP(S)_PROXY pointing at motobox's egress control: AWS hosts are
answered by the mock, every other host gets HTTP 403 unless a scenario stubs it. The program
(or you, with --port) can change the rules while it runs: POST a rule as JSON to
$AWS_ENDPOINT_URL/_motobox/rules (GET lists them, DELETE /_motobox/rules/ID removes one)."""


EPILOG_SERVE = """examples:
  eval "$(motobox serve --detach)"          # a cloud in the background; this shell uses it
  motobox run -- cdk bootstrap && motobox run -- cdk deploy   # both against that cloud
  aws s3 ls                                 # plain commands too (the exported variables)
  eval "$(motobox stop)"                    # stop it and unset the variables

Without --detach the cloud serves in this terminal until Ctrl-C; point other terminals at it
with --cloud URL or MOTOBOX_CLOUD=URL. The control API is on the cloud's own port, under
/_motobox/ (cloud, journal, rules, stop). Rules change while it runs:
  R='{"match": {"operation": "s3:ListBuckets"}, "reset": "before"}'
  curl -d "$R" $MOTOBOX_CLOUD/_motobox/rules          # add; answers {"id": "1", ...}
  curl $MOTOBOX_CLOUD/_motobox/rules                  # the rules added, how often each fired
  curl -X DELETE $MOTOBOX_CLOUD/_motobox/rules/1      # remove change 1
  motobox run --scenario F.yaml -- CMD                # F's rules, egress, dns: this run only"""


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
    if program:
        p.add_argument(
            "--cloud",
            metavar="URL",
            default=os.environ.get(CLOUD_ENV) or None,
            help=f"run against a cloud that motobox serve runs (its URL; default: ${CLOUD_ENV}) "
            "instead of a new embedded one",
        )
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
        "--account",
        metavar="ID",
        help="AWS account the program acts in (default: 123456789012, or the running cloud's)",
    )
    p.add_argument("--region", default="us-east-1", help="default region of the program")
    p.add_argument(
        "--backend",
        metavar="URL",
        help="send AWS calls to an external moto server (e.g. http://127.0.0.1:5000) instead "
        "of the embedded one; the journal stays complete",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="resources and operations moto does not emulate fail instead of being stubbed "
        "(as a scenario's strict: true)",
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
        "to motobox (root, or any user where user namespaces are allowed; see motobox doctor)",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG...]")

    serve = sub.add_parser(
        "serve",
        help="serve a cloud for any number of commands; print the export lines to use it",
        description="Serve the embedded cloud and egress proxy, and print `export ...` lines "
        "for your shell: AWS_ENDPOINT_URL, fake keys, the egress proxy and CA, MOTOBOX_CLOUD.",
        epilog=EPILOG_SERVE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_cloud_options(serve, program=False)
    serve.add_argument(
        "--detach",
        action="store_true",
        help="serve in the background: print the export lines once the cloud answers, then "
        'exit (eval "$(motobox serve --detach)")',
    )
    serve.add_argument(
        "--seal",
        action="store_true",
        help="give the cloud a sealed network namespace (motobox run --cloud URL --seal)",
    )
    serve.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)

    stop = sub.add_parser(
        "stop",
        help="stop a cloud that motobox serve runs, and print the unset line for your shell",
        description=f'Stop the cloud at --cloud URL (default: ${CLOUD_ENV}); eval "$(motobox '
        'stop)" also unsets the variables motobox serve exported.',
    )
    stop.add_argument("--cloud", metavar="URL", default=os.environ.get(CLOUD_ENV) or None)

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
        nargs="?",
        const=EMBEDDED,
        default=os.environ.get(CLOUD_ENV) or None,
        metavar="URL",
        help="run the whole Action inside motobox: against the cloud at URL (default: "
        f"${CLOUD_ENV}), or a new embedded one when no URL is given (implied by --scenario, "
        "--account, --journal, --seal)",
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
        "motobox (root, or any user where user namespaces are allowed; see motobox doctor)",
    )
    action.add_argument("--debug", action="store_true", help="show ::debug:: lines")
    return parser


def _cloud(args: argparse.Namespace) -> Any:
    """The cloud a command works with: a new embedded one, or the running one at --cloud."""
    options: dict[str, Any] = dict(
        seal=getattr(args, "seal", False),
        scenarios=args.scenario,
        journal=args.journal,
        account=args.account,
        region=args.region,
        strict=getattr(args, "strict", False),
    )
    url = getattr(args, "cloud", None)
    if url:
        given = [f"--{n}" for n in ("port", "tls", "backend") if getattr(args, n, None)]
        if given:
            raise UsageError(
                f"{' and '.join(given)} describe a new cloud; with --cloud the running one "
                "serves (leave them out, or unset MOTOBOX_CLOUD)"
            )
        from motobox.attach import AttachedCloud

        return AttachedCloud(url, **options)
    from motobox.cloud import DEFAULT_ACCOUNT, Cloud

    options["account"] = args.account or DEFAULT_ACCOUNT
    return Cloud(port=args.port, backend=args.backend, tls=args.tls, **options)


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
        if result.timed_out:
            print(
                f"motobox: the program ran past --timeout {args.timeout:g} s; ended",
                file=sys.stderr,
            )
        _print_summary(cloud.journal.records)
    if result.report is None:
        if args.junit:
            raise UsageError("--junit needs a scenario with an expect: block")
        return int(result.exit_code)
    print(result.report.text(), file=sys.stderr)
    if args.junit:
        result.report.write_junit(args.junit, suite=cloud.scenario.name or "motobox")
    return 0 if result.report.passed else 1


def _exports(env: dict[str, str], cloud_url: str) -> str:
    import shlex

    keys = sorted(k for k in env if k.startswith("AWS_") or k.lower().endswith("_proxy"))
    keys += [
        k
        for k in (
            "REQUESTS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "NODE_EXTRA_CA_CERTS",
            "CURL_CA_BUNDLE",
            "DOCKER_HOST",
            "JAVA_TOOL_OPTIONS",
        )
        if k in env
    ]
    lines = [f"export {key}={shlex.quote(env[key])}" for key in keys]
    lines.append(f"export {CLOUD_ENV}={shlex.quote(cloud_url)}")
    lines.append("unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN")
    return "\n".join(lines) + "\n"


def _print_summary(records: list[dict[str, Any]]) -> None:
    """What the run did not emulate, and stacks still in progress (``summary``)."""
    from motobox.emulation.cloudformation import summary

    for line in summary.lines(records):
        print(f"motobox: {line}", file=sys.stderr, flush=True)


def _cmd_serve(args: argparse.Namespace) -> int:
    if args.detach:
        return _serve_detached(args)
    stop = threading.Event()
    # SIGINT too, explicitly: a shell that starts a command in the background without job
    # control (``motobox serve &`` in a script, CI steps) leaves SIGINT ignored, and Python
    # then installs no KeyboardInterrupt for it; Ctrl-C and ``kill -INT`` must still stop it.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    with _cloud(args) as cloud:
        exports = _exports(cloud.env(os.environ), cloud.endpoint_url)
        if args.ready_fd is not None:  # a detached serve: the parent prints them
            with os.fdopen(args.ready_fd, "w") as ready:
                ready.write(exports)
        else:
            sys.stdout.write(exports)
            sys.stdout.flush()
        print(
            f"# motobox: cloud at {cloud.endpoint_url} (pid {os.getpid()}); "
            "stop it with Ctrl-C or motobox stop\n"
            f"# motobox: control API at {cloud.endpoint_url}/_motobox/ (cloud, journal, rules, "
            f"stop); add a rule while it runs: curl -d '{RULE_EXAMPLE}' "
            f"{cloud.endpoint_url}/_motobox/rules; list: curl {cloud.endpoint_url}/_motobox/rules;"
            f" remove: curl -X DELETE {cloud.endpoint_url}/_motobox/rules/ID",
            file=sys.stderr,
            flush=True,
        )
        _started()

        def watch() -> None:  # the control API's stop
            cloud.stop_requested.wait()
            stop.set()

        threading.Thread(target=watch, daemon=True).start()
        stop.wait()
    return 0


def _serve_detached(args: argparse.Namespace) -> int:
    """Start ``motobox serve`` in the background, print its export lines once it answers."""
    import subprocess
    import tempfile

    argv = [a for a in args.argv_given if a != "--detach"]
    log = Path(tempfile.gettempdir()) / f"motobox-serve-{os.getpid()}.log"
    read, write = os.pipe()
    with open(log, "wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "motobox", *argv, "--ready-fd", str(write)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=(write,),
            start_new_session=True,
        )
    os.close(write)
    with os.fdopen(read) as ready:
        exports = ready.read()  # EOF: the cloud answers, or the child died
    if not exports:
        child.wait(10)
        problem = log.read_text(errors="replace").strip().splitlines()
        raise UsageError(
            (problem[-1].removeprefix("motobox: ") if problem else "motobox serve ended")
            + f" (log: {log})"
        )
    sys.stdout.write(exports)
    print(
        f"# motobox: serving in the background (pid {child.pid}, log {log}); control API at "
        f"${CLOUD_ENV}/_motobox/ (rules: curl -d '{RULE_EXAMPLE}' ${CLOUD_ENV}/_motobox/rules)",
        file=sys.stderr,
    )
    return 0


def _cmd_stop(args: argparse.Namespace) -> int:
    from motobox.control import CloudClient

    if not args.cloud:
        raise UsageError(f"which cloud? give --cloud URL or set {CLOUD_ENV}")
    CloudClient(args.cloud).stop()
    print(
        f"unset {CLOUD_ENV} AWS_ENDPOINT_URL AWS_DATA_PATH AWS_ACCESS_KEY_ID "
        "AWS_SECRET_ACCESS_KEY AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_CA_BUNDLE "
        "HTTP_PROXY HTTPS_PROXY http_proxy https_proxy NO_PROXY no_proxy REQUESTS_CA_BUNDLE "
        "SSL_CERT_FILE NODE_EXTRA_CA_CERTS CURL_CA_BUNDLE DOCKER_HOST JAVA_TOOL_OPTIONS"
    )
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
    if result.journal is not None:
        _print_summary(result.journal.records)
    if result.expectations is not None:  # the scenario is a test of the Action
        print(result.expectations.text(), file=sys.stderr, flush=True)
        return 0 if result.expectations.passed else 1
    return result.exit_code


COMMANDS = {
    "run": _cmd_run,
    "serve": _cmd_serve,
    "check": _cmd_check,
    "doctor": _cmd_doctor,
    "stop": _cmd_stop,
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
        args.argv_given = list(sys.argv[1:] if argv is None else argv)
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
