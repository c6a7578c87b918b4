"""What the GitHub runner tells a step about the run, from one table.

The same facts reach a step twice on GitHub: as the ``github`` and ``runner`` contexts of
``${{ }}`` expressions, and as ``GITHUB_*`` and ``RUNNER_*`` variables in its environment
(``github.workspace`` is ``GITHUB_WORKSPACE``, ``runner.temp`` is ``RUNNER_TEMP``...). They are
written once here and read both ways, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class RunnerFacts:
    action_dir: Path
    workspace: Path
    tool_cache: Path
    temp: Path
    debug: bool = False

    def github(self) -> dict[str, Any]:
        return {
            "action_path": str(self.action_dir),
            "workspace": str(self.workspace),
            "event_name": "workflow_dispatch",
            "repository": "local/" + self.workspace.name,
            "ref": "refs/heads/main",
            "sha": "0" * 40,
            "run_id": "1",
            "run_number": "1",
            "actor": "motobox",
            "server_url": "https://github.com",
            "action": "__local",
            "event": {},
        }

    def runner(self) -> dict[str, Any]:
        return {
            "os": "Linux",
            "arch": "X64",
            "name": "motobox",
            "temp": str(self.temp),
            "tool_cache": str(self.tool_cache),
            "debug": "1" if self.debug else "",
        }

    def env(self) -> dict[str, str]:
        """``CI``, ``GITHUB_ACTIONS`` and a ``GITHUB_*``/``RUNNER_*`` variable per fact (the
        event is a file, ``GITHUB_EVENT_PATH``; ``RUNNER_DEBUG`` only when debugging)."""
        env = {"CI": "true", "GITHUB_ACTIONS": "true"}
        env.update({f"GITHUB_{k.upper()}": v for k, v in self.github().items() if k != "event"})
        env.update({f"RUNNER_{k.upper()}": v for k, v in self.runner().items() if v})
        return env
