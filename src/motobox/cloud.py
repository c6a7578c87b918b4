"""``Cloud``: one embedded AWS cloud, its egress control, and the programs run against it.

    with motobox.Cloud() as cloud:
        result = cloud.run(["aws", "s3", "ls"])
        assert result.exit_code == 0
        assert cloud.journal.calls("s3:ListBuckets")

Starting a cloud wires the pieces together: a per-run state folder and CA, the journal, the
gateway (identify -> rules -> moto) served by ``transport.http.Server`` on a free loopback port,
the egress proxy (AWS hosts go to the gateway, the rest is stubbed or denied), and the
program's environment (``environment.build_program_env``). The rule engine is always there,
with or without a scenario: ``rules`` (``live``) changes it while the cloud runs, and a sealed
run's DNS asks it for ``dns:`` faults. ``run`` starts the program under
``process.run_program``; ``stop`` (or leaving the ``with`` block) tears everything down (a
connection a ``hang`` rule holds included) and removes the state folder. The last piece
started is a stand-in Docker engine on a Unix socket (``sandbox.docker``): taskcat asks Docker
for its version before it packages Lambda sources.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motobox.aws.gateway import (
    DEFAULT_ACCOUNT,
    Backend,
    Gateway,
    RemoteBackend,
    moto_backend,
    reset_moto_state,
)
from motobox.errors import UsageError
from motobox.journal import Journal
from motobox.live import LiveRules, Rules
from motobox.sandbox.egress import EgressProxy, Stub
from motobox.sandbox.environment import Credentials, build_program_env
from motobox.scenario import Scenario, combine
from motobox.transport.http import Server
from motobox.transport.wsgi import WSGIHandler

if TYPE_CHECKING:  # imported when first needed: cryptography alone takes ~25 ms to import
    from motobox.sandbox.ca import CertificateAuthority
    from motobox.sandbox.docker import DockerStandIn
    from motobox.sandbox.process import ProgramResult

_embedded_lock = threading.Lock()
_embedded_running = 0  # embedded clouds started and not yet stopped in this process

SECRET = "motobox-not-a-real-secret"


def state_root() -> str | None:
    """Where a cloud keeps its state folder (CA, AWS config, endpoint data for old SDKs).

    A memory file system when the machine has one: the endpoint data alone is ~900 folders
    and ~500 files per cloud, which a journaled disk makes take 60-130 ms to write and to
    remove, against ~10 ms in memory. ``TMPDIR``, when set, is the user's choice and wins.
    None means the system's temporary folder.
    """
    if os.environ.get("TMPDIR"):
        return None
    for candidate in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return None


def _dns_fault(rules: Any) -> Any:
    """The seal's question to the rule engine: how a ``dns:`` rule fails a name, if one does."""

    def fault(name: str, qtype: str) -> tuple[str, str] | None:
        rule = rules.select_dns(name, qtype)
        return (rule.answer, rule.source) if rule is not None else None

    return fault


def _load(scenarios: Sequence[str | Path]) -> list[Scenario]:
    """The scenario files, read and checked; the loader is imported only when there are some."""
    if not scenarios:
        return []
    from motobox.scenario.load import load_scenarios

    return load_scenarios(scenarios)


def credentials_for(account: str) -> Credentials:
    """Fake, obviously-not-real keys; the gateway maps the key id back to ``account``."""
    return Credentials(access_key_id=f"MOTOBOX{account}", secret_access_key=SECRET)


@dataclass
class RunResult:
    """What a program did: its exit code, its output, and the calls it made."""

    exit_code: int
    stdout: str
    stderr: str
    journal: Journal
    timed_out: bool = False
    duration_s: float = 0.0
    report: Any = None  # the expectation report, when the scenario has ``expect:``
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Cloud:
    """An embedded moto cloud with egress control; a context manager."""

    def __init__(
        self,
        *,
        journal: str | Path | None = None,
        port: int = 0,
        account: str = DEFAULT_ACCOUNT,
        region: str = "us-east-1",
        backend: str | None = None,
        tls: bool = False,
        credentials: Credentials | None | str = "default",
        stubs: Sequence[Stub] = (),
        scenarios: Sequence[str | Path] = (),
        scenario: Scenario | None = None,
        seal: bool = False,
        strict: bool = False,
    ) -> None:
        if not (account.isdigit() and len(account) == 12):
            raise UsageError(f"--account {account!r} is not a 12-digit AWS account id")
        #: The effective scenario: the files in order (``load_scenarios`` raises
        #: ``ScenarioError`` for a broken one, before anything starts).
        self.scenario = scenario or combine(_load(scenarios))
        self.account = account
        self.region = region
        self.port = port
        self.tls = tls
        self.backend_url = backend
        self.journal = Journal(journal)
        self._stubs = [*stubs, *self.scenario.egress]
        #: The rules changed while the cloud runs (``live``); ``rules`` is its interface.
        self.live: LiveRules | None = None
        self._accounts: dict[str, str] = {}
        wanted = self.scenario.credentials
        if wanted == "none":
            credentials = None
        elif wanted is not None:
            credentials = Credentials(wanted.access_key_id, wanted.secret_access_key)
            if wanted.account:
                self._accounts[wanted.access_key_id] = wanted.account
        if credentials == "default":
            self.credentials: Credentials | None = credentials_for(account)
        else:
            self.credentials = credentials  # type: ignore[assignment]
        self.state_dir: Path | None = None
        self.ca: CertificateAuthority | None = None
        self.gateway: Gateway | None = None
        self.server: Server | None = None
        self.proxy: EgressProxy | None = None
        self.docker: DockerStandIn | None = None
        self._embedded = False
        self.seal = seal
        self.sealed: Any = None  # motobox.sandbox.seal.Seal while a sealed cloud runs
        #: Set when the control API is asked to stop the cloud (``motobox stop``).
        self.stop_requested = threading.Event()
        self._seal_helper: Any = None  # its NamespaceHelper, from the start until the Seal
        #: What moto does not emulate fails instead of being stubbed (``--strict`` or the
        #: scenario's ``strict: true``).
        self.strict = strict or self.scenario.strict

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> Cloud:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if self.seal:  # first: the namespace helper starts up while moto loads
            from motobox.sandbox.seal import NamespaceHelper

            self._seal_helper = NamespaceHelper()
        self.state_dir = Path(tempfile.mkdtemp(prefix="motobox-", dir=state_root()))
        if self.backend_url:
            backend: Backend = RemoteBackend(self.backend_url)
        else:
            backend = moto_backend()
            with _embedded_lock:
                global _embedded_running
                if _embedded_running == 0:
                    reset_moto_state()
                _embedded_running += 1
                self._embedded = True
        accounts = {credentials_for(self.account).access_key_id: self.account, **self._accounts}
        if self.credentials is not None:
            accounts.setdefault(self.credentials.access_key_id, self.account)
        # Always an engine, even without a scenario: rules can be added while the cloud runs.
        from motobox.scenario.rules import RuleEngine

        rules = RuleEngine(self.scenario.rules, dns=self.scenario.dns)
        self.gateway = Gateway(
            self.journal, backend, default_account=self.account, accounts=accounts, rules=rules
        )
        ssl_context = self._make_ca().server_context("127.0.0.1") if self.tls else None
        from motobox.control import ControlAPI

        handler = WSGIHandler(ControlAPI(self.gateway, self))
        try:
            self.server = Server(
                handler, "127.0.0.1", self.port, ssl_context=ssl_context, name="motobox-cloud"
            )
        except OSError as exc:
            raise UsageError(
                f"cannot listen on 127.0.0.1:{self.port} ({exc.strerror}); "
                "pick another --port or leave it out for a free one"
            ) from None
        self.server.start()  # answering from here on; the rest is for programs and egress
        port = self.server.port
        self.proxy = EgressProxy(
            self._make_ca(),
            self.journal,
            cloud_handler=handler,  # AWS calls through the proxy are answered in-process
            cloud_authorities=(f"127.0.0.1:{port}", f"localhost:{port}"),
            stubs=self._stubs,
        ).start()
        self.live = LiveRules(rules, self.proxy, self.journal)
        if self.seal:
            from motobox.sandbox.seal import Seal

            proxy, server = self.proxy, self.server
            self.sealed = Seal(
                self.journal,
                self.state_dir,
                self._make_ca().cert_pem,
                forwards=[(server.port, server.serve_socket), (proxy.port, proxy.serve_socket)],
                direct=proxy.serve_direct,
                helper=self._seal_helper,
                dns_fault=_dns_fault(rules),
            )
            self._seal_helper = None  # the Seal's now
            self.sealed.start()
            self.sealed.hand_out(self.state_dir / "seal.sock")  # motobox run --cloud --seal
        from motobox.emulation.context import CloudContext

        self.gateway.cloud = CloudContext(
            endpoint_url=self.endpoint_url,
            journal=self.journal,
            env=self.env_for,
            popen=self.popen,
            strict=self.strict,
            rules=rules,
        )
        self._run_setup()
        from motobox.sandbox.docker import DockerStandIn

        self.docker = DockerStandIn(self.journal, self.state_dir).start()

    def _make_ca(self) -> CertificateAuthority:
        """The run's CA and its bundle file, made once."""
        if self.ca is None:
            from motobox.sandbox.ca import CertificateAuthority

            assert self.state_dir
            self.ca = CertificateAuthority(workdir=self.state_dir)
            self.ca_bundle = self.ca.write_bundle(self.state_dir / "ca.pem")
        return self.ca

    def _run_setup(self) -> None:
        """The scenario's ``setup:`` calls, made with boto3 against the cloud (journaled as
        set-up, left out of expectations, never touched by rules)."""
        for step in self.scenario.setup:
            client = self.client(step.service, setup=True)
            try:
                getattr(client, step.method)(**step.kwargs)
            except Exception as exc:
                raise UsageError(
                    f"{step.service}.{step.method} failed: {exc}; fix the step's arguments",
                    where=step.source,
                ) from None

    def stop(self) -> None:
        if self.gateway and self.gateway.cloud:
            self.gateway.cloud.close()  # what emulators started for this cloud (Lambda workers)
        if self._seal_helper:  # the start failed before the seal
            self._seal_helper.cancel()
            self._seal_helper = None
        if self.sealed:
            self.sealed.stop()
            self.sealed = None
        if self._embedded:
            with _embedded_lock:
                global _embedded_running
                _embedded_running -= 1
                self._embedded = False
        if self.docker:
            self.docker.stop()
            self.docker = None
        if self.proxy:
            self.proxy.stop()
            self.proxy = None
        if self.server:
            self.server.stop()
            self.server = None
        self.live = None
        self.journal.close()
        if self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None
        self.ca = None

    def __enter__(self) -> Cloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what programs see -------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        assert self.server, "the cloud is not started"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server.port}"

    def facts(self) -> dict[str, Any]:
        """What another process needs to use this cloud (the control API's ``cloud``)."""
        assert self.ca, "the cloud is not started"
        from motobox import __version__

        return {
            "motobox": __version__,
            "endpoint_url": self.endpoint_url,
            "proxy_url": self.proxy_url,
            "ca_pem": self.ca.cert_pem.decode(),
            "account": self.account,
            "region": self.region,
            "tls": self.tls,
            "pid": os.getpid(),
            "journal_seq": len(self.journal),
            "journal_path": str(self.journal.path) if self.journal.path else None,
            "seal": (
                {"path": self.sealed.path, "socket": str(self.state_dir / "seal.sock")}
                if self.sealed is not None and self.state_dir
                else None
            ),
        }

    @property
    def rules(self) -> Rules:
        """The cloud's rules, changed while it runs (``live``): ``add({...})`` returns a
        handle whose ``remove()`` (or the end of its ``with`` block) ends the change;
        ``list()``. The control API serves the same at ``/_motobox/rules``."""
        if self.live is None:
            raise UsageError("the cloud is not started; add rules once it runs")
        return self.live

    def request_stop(self) -> None:
        """Ask whoever serves this cloud (``motobox serve``) to stop it."""
        self.stop_requested.set()

    def add_stub(self, stub: Stub) -> None:
        """Answer requests to a non-AWS URL or host with ``stub`` instead of denying them."""
        self._stubs.append(stub)
        if self.proxy:
            self.proxy.add_stub(stub)

    @property
    def proxy_url(self) -> str:
        """The egress proxy, as programs reach it."""
        assert self.proxy, "the cloud is not started"
        return self.proxy.url

    def env(self, parent: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment a program gets: isolated from real AWS, redirected to this cloud."""
        assert self.state_dir, "the cloud is not started"
        return build_program_env(
            os.environ if parent is None else parent,
            endpoint_url=self.endpoint_url,
            region=self.region,
            credentials=self.credentials,
            state_dir=self.state_dir,
            ca_bundle=self.ca_bundle,
            proxy_url=self.proxy_url,
            docker_host=self.docker.url if self.docker else None,
        )

    def env_for(self, account: str, region: str | None = None) -> dict[str, str]:
        """The environment of a process acting in ``account`` (``region``, else the cloud's):
        ``env()`` with that account's fake keys."""
        env = self.env()
        keys = credentials_for(account)
        env["AWS_ACCESS_KEY_ID"] = keys.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = keys.secret_access_key
        if region:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
        return env

    def popen(self, argv: Sequence[str], env: Mapping[str, str], **kwargs: Any) -> Any:
        """``subprocess.Popen`` of ``argv`` under motobox's supervisor, as programs are started:
        in a sealed cloud, inside the sealed namespace."""
        from motobox.sandbox.process import supervised

        return supervised(argv, env, seal=self.sealed, **kwargs)

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        capture: bool = True,
        tee: bool = False,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        parent_env: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> RunResult:
        """Run a program against this cloud; ``env`` adds or overrides variables;
        ``account`` makes it act in another account than the cloud's."""
        program_env = self.env(parent_env)
        if account is not None:
            if not (account.isdigit() and len(account) == 12):
                raise UsageError(f"account {account!r} is not a 12-digit AWS account id")
            keys = credentials_for(account)
            program_env["AWS_ACCESS_KEY_ID"] = keys.access_key_id
            program_env["AWS_SECRET_ACCESS_KEY"] = keys.secret_access_key
        if env:
            program_env.update(env)
        from motobox.sandbox.process import run_program

        result: ProgramResult = run_program(
            list(argv),
            program_env,
            cwd=cwd,
            timeout=timeout,
            capture=capture,
            tee=tee,
            seal=self.sealed,
        )
        run = RunResult(
            exit_code=result.exit_code,
            stdout=(result.stdout or b"").decode("utf-8", "replace"),
            stderr=(result.stderr or b"").decode("utf-8", "replace"),
            journal=self.journal,
            timed_out=result.timed_out,
            duration_s=result.duration_s,
        )
        run.report = self.check(run.exit_code, run.stdout, run.stderr)
        return run

    def check(self, exit_code: int, stdout: str, stderr: str) -> Any:
        """The scenario's expectations checked against a program's run and this journal
        (an ``expect.Report``), or None when the scenario has no ``expect:``."""
        if self.scenario.expect is None:
            return None
        from motobox.scenario.expect import check

        return check(
            self.scenario.expect,
            exit_code=exit_code,
            stdout=stdout,
            stderr=stderr,
            journal=self.journal,
        )

    def client(self, service: str, *, setup: bool = False, **kwargs: Any) -> Any:
        """A boto3 client of this cloud, in the program's account, for set-up and assertions.

        It reads none of your AWS configuration (profiles, keys, config files)."""
        import boto3
        import botocore.session

        # No profile, config or credentials file of the user's: none is read from the env.
        core = botocore.session.Session(
            session_vars={
                "profile": (None, None, None, None),
                "config_file": (None, None, os.devnull, None),
                "credentials_file": (None, None, os.devnull, None),
            }
        )
        creds = credentials_for(self.account)
        session = boto3.session.Session(
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            region_name=self.region,
            botocore_session=core,
        )
        options: dict[str, Any] = {"endpoint_url": self.endpoint_url}
        if self.tls:
            options["verify"] = str(self.ca_bundle)
        options.update(kwargs)
        client = session.client(service, **options)
        if setup:

            def mark(request: Any, **_: Any) -> None:
                request.headers["x-motobox-setup"] = "1"

            client.meta.events.register("before-send", mark)
        return client
