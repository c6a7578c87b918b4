"""The Action's main step: inputs -> taskcat -> masks, summary, annotations, outputs.

Everything the step prints goes through the runner, which hides masked values; the account id
is masked before taskcat starts (``::add-mask::``) and replaced by ``***`` in every file under
``taskcat_outputs`` afterwards, since that folder is uploaded as an artifact.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from taskcat_action import FAILED_MESSAGE, __version__, workflow
from taskcat_action.inputs import InputError, Inputs, read_inputs
from taskcat_action.install import ensure_motobox, ensure_taskcat
from taskcat_action.report import mask_files, read_results, summary_markdown

ACCOUNT_SCRIPT = "import boto3; print(boto3.client('sts').get_caller_identity()['Account'])"


def find_account(inputs: Inputs, python: Path, env: Mapping[str, str]) -> str | None:
    """The account id to mask: the input, else STS GetCallerIdentity with taskcat's boto3."""
    if inputs.aws_account_id:
        return inputs.aws_account_id
    try:
        done = subprocess.run(
            [str(python), "-c", ACCOUNT_SCRIPT],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    account = done.stdout.strip()
    return account if done.returncode == 0 and account.isdigit() else None


def stream(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Runs ``argv`` (no shell), its output passed through line by line as it comes."""
    try:
        proc = subprocess.Popen(list(argv), env=dict(env), stdout=sys.stdout, stderr=sys.stderr)
    except FileNotFoundError:
        print(f"{argv[0]}: not found", file=sys.stderr)
        return 127
    return proc.wait()


def mock_summary(journal: Path) -> str:
    """With ``mock: true``: what motobox did not emulate (one line per stack with stubbed
    resources, stacks still in progress, operations moto lacks), as markdown; "" for none."""
    from motobox.emulation.cloudformation import summary

    found = summary.lines(summary.read(journal))
    if not found:
        return ""
    return "\n".join(["#### Not emulated by motobox", "", *(f"- {line}" for line in found)]) + "\n"


def main(env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    try:
        inputs = read_inputs(env)
    except InputError as exc:
        workflow.error(str(exc))
        workflow.set_outputs({"result": "failed", "report": ""})
        return 1

    tool_cache = Path(env.get("RUNNER_TOOL_CACHE") or Path.home() / ".cache" / "taskcat-action")
    workflow.group(f"Set up taskcat {inputs.taskcat_version}")
    try:
        taskcat = ensure_taskcat(
            tool_cache,
            inputs.taskcat_version,
            update_taskcat=inputs.update_taskcat,
            update_cfn_lint=inputs.update_cfn_lint,
        )
        argv = [str(taskcat), *inputs.commands]
        if inputs.mock:
            action_path = Path(env.get("GITHUB_ACTION_PATH") or Path(__file__).parents[2])
            motobox = ensure_motobox(tool_cache, action_path, __version__)
            # The journal of every call goes with the outputs, so the artifact shows them.
            outputs = Path(env.get("GITHUB_WORKSPACE", ".")) / inputs.output_directory
            outputs.mkdir(parents=True, exist_ok=True)
            journal = outputs / "motobox-journal.jsonl"
            wrapper = [str(motobox), "-m", "motobox", "run", "--journal", str(journal)]
            if inputs.scenario:
                wrapper += ["--scenario", inputs.scenario]
            if inputs.aws_account_id:
                wrapper += ["--account", inputs.aws_account_id]
            argv = [*wrapper, "--", *argv]
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        workflow.endgroup()
        workflow.error(f"Could not install taskcat {inputs.taskcat_version}: {exc}")
        workflow.set_outputs({"result": "failed", "report": ""})
        return 1
    workflow.endgroup()

    account = None
    if inputs.mask_account_id:
        account = (
            inputs.aws_account_id or ("123456789012" if inputs.mock else None)
        ) or find_account(inputs, taskcat.parent / "python", env)
        if account:
            workflow.add_mask(account)

    commands = shlex.join(inputs.commands)
    workflow.group(f"taskcat {commands}")
    started = time.time() - 1  # file times are coarser than the clock on some file systems
    code = stream(argv, env)
    workflow.endgroup()

    outputs = Path(env.get("GITHUB_WORKSPACE", ".")) / inputs.output_directory
    if account:
        mask_files(outputs, account)
    results = read_results(outputs, since=started)
    passed = code == 0
    if results or not passed:
        workflow.add_summary(summary_markdown(results, passed=passed, commands=commands))
    if inputs.mock:
        not_emulated = mock_summary(outputs / "motobox-journal.jsonl")
        if not_emulated:
            workflow.add_summary(not_emulated)
    for r in results:
        if r.failed:
            workflow.error(
                f"{r.test} in {r.region}: {r.stack} ended {r.status}"
                + (f": {r.reason}" if r.reason else ""),
                title=f"taskcat test {r.test} failed ({r.region})",
            )
    index = outputs / "index.html"
    fresh = index.exists() and index.stat().st_mtime >= started
    workflow.set_outputs(
        {"result": "passed" if passed else "failed", "report": str(index) if fresh else ""}
    )
    if not passed:
        workflow.error(FAILED_MESSAGE)
        return 1
    return 0
