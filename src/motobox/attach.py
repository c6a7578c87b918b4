"""A cloud that another motobox serves: ``motobox run --cloud URL`` and ``--cloud`` elsewhere.

    AttachedCloud(url).start()
      -> the control API's facts (``control.CloudClient``): endpoint, egress proxy, CA
      -> a state folder of its own: the CA bundle, AWS config and credentials files, the
         endpoint data old SDKs read
      -> programs run exactly as against an embedded cloud (``Cloud.run``): the same
         environment, supervised, the scenario's ``expect:`` checked against the records the
         cloud journaled while they ran (fetched from the control API; ``--journal FILE``
         holds that slice, with the cloud's own ``seq``)

Several commands can then share one cloud: ``cdk bootstrap`` and ``cdk deploy`` are two runs
against the state the first one left. The serving process owns the journal and the egress
control. An attached run's scenario brings ``setup:`` and ``expect:`` of its own, and its
rules, egress stubs and DNS rules go to the running cloud through the control API's
``/_motobox/rules`` (``live``) for the run's duration: sent before its set-up, one change per
scenario file (so that forced answers name ``FILE#rules[N]`` as in an embedded run), removed
when it stops. ``rules`` is the same interface as ``Cloud.rules``, over HTTP With
``--seal`` the program joins the serving cloud's sealed namespaces (``seal.JoinedSeal``: their
descriptors, handed over a Unix socket only the same user can open), so its DNS questions and
80/443 connections are that cloud's too.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from motobox.cloud import DEFAULT_ACCOUNT, Cloud, credentials_for, state_root
from motobox.control import CloudClient
from motobox.errors import UsageError
from motobox.live import RemoteRules, RuleChange, Rules, changes_of


class AttachedCloud(Cloud):
    """``Cloud``'s interface over a cloud that another process serves."""

    def __init__(self, url: str, *, account: str | None = None, **options: Any) -> None:
        self.client_api = CloudClient(url)
        self._account_given = account
        super().__init__(account=account or DEFAULT_ACCOUNT, **options)
        self._facts: dict[str, Any] = {}
        self._seen = 0
        self._remote_rules = RemoteRules(self.client_api)
        self._changes: list[RuleChange] = []  # the scenario's, removed at stop

    def _start(self) -> None:
        self._facts = self.client_api.facts()
        self._seen = int(self._facts.get("journal_seq") or 0)
        if self._account_given is None:  # act in the running cloud's account
            self.account = str(self._facts["account"])
            if self.scenario.credentials is None:
                self.credentials = credentials_for(self.account)
        if self.seal:
            seal = self._facts.get("seal")
            if not seal:
                raise UsageError(
                    "--seal with --cloud needs a sealed cloud: start it with "
                    'eval "$(motobox serve --detach --seal)"'
                )
            from motobox.sandbox.seal import JoinedSeal

            self.sealed = JoinedSeal(seal["socket"])
        self.state_dir = Path(tempfile.mkdtemp(prefix="motobox-attached-", dir=state_root()))
        self.ca_bundle = self.state_dir / "ca.pem"
        self.ca_bundle.write_text(self._facts["ca_pem"])
        self.tls = bool(self._facts.get("tls"))
        for change in changes_of(self.scenario):
            self._changes.append(self._remote_rules.add(change))
        self._run_setup()

    @property
    def endpoint_url(self) -> str:
        return str(self._facts["endpoint_url"])

    @property
    def proxy_url(self) -> str:
        return str(self._facts["proxy_url"])

    def facts(self) -> dict[str, Any]:
        return dict(self._facts)

    @property
    def rules(self) -> Rules:
        """The running cloud's rules, changed over its control API (``Cloud.rules``' interface)."""
        return self._remote_rules

    def fetch_journal(self) -> None:
        """Copy the records the cloud made since the last fetch into this run's journal."""
        for record in self.client_api.journal(after=self._seen):
            self.journal.append(record)  # keeps the cloud's seq
            self._seen = max(self._seen, int(record.get("seq") or 0))

    def check(self, exit_code: int, stdout: str, stderr: str) -> Any:
        self.fetch_journal()
        return super().check(exit_code, stdout, stderr)

    def stop(self) -> None:
        try:
            while self._changes:  # the run's rules end with it
                self._changes.pop().remove()
        except UsageError:
            self._changes.clear()  # the cloud went away meanwhile, its rules with it
        if self._facts:
            try:
                self.fetch_journal()
            except UsageError:
                pass  # the cloud went away meanwhile: the journal keeps what it had
        if self.sealed is not None:
            self.sealed.stop()
            self.sealed = None
        self.journal.close()
        if self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None
        self._facts = {}
