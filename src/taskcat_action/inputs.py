"""The Action's inputs, read and checked the way ``@actions/core`` does.

Composite steps get no ``INPUT_*`` variables from the runner; ``action.yml`` maps each input
to an ``INPUT_<NAME>`` variable itself (``env: {INPUT_COMMANDS: ${{ inputs.commands }}}``), and
this module reads those. Booleans follow ``getBooleanInput``: ``true True TRUE false False
FALSE`` and nothing else, an empty value included.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

TRUE = ("true", "True", "TRUE")
FALSE = ("false", "False", "FALSE")


class InputError(Exception):
    """A bad input value; the message is what the step prints before failing."""


def _env_name(name: str) -> str:
    return "INPUT_" + name.replace(" ", "_").upper()


def get_input(name: str, env: Mapping[str, str] | None = None, *, required: bool = False) -> str:
    env = os.environ if env is None else env
    value = env.get(_env_name(name), "").strip()
    if required and not value:
        raise InputError(f"Input required and not supplied: {name}")
    return value


def get_boolean_input(name: str, env: Mapping[str, str] | None = None) -> bool:
    value = get_input(name, env)
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InputError(
        f'Input does not meet YAML 1.2 "Core Schema" specification: {name}\n'
        "Support boolean input list: `true | True | TRUE | false | False | FALSE`"
    )


@dataclass(frozen=True)
class Inputs:
    commands: list[str]
    update_taskcat: bool
    update_cfn_lint: bool
    taskcat_version: str
    mock: bool
    scenario: str
    mask_account_id: bool
    aws_account_id: str
    output_directory: str


def read_inputs(env: Mapping[str, str] | None = None) -> Inputs:
    raw = get_input("commands", env, required=True)
    try:
        commands = shlex.split(raw)
    except ValueError as exc:
        raise InputError(f"Input commands cannot be split like a shell line: {exc}") from None
    return Inputs(
        commands=commands,
        update_taskcat=get_boolean_input("update_taskcat", env),
        update_cfn_lint=get_boolean_input("update_cfn_lint", env),
        taskcat_version=get_input("taskcat_version", env, required=True),
        mock=get_boolean_input("mock", env),
        scenario=get_input("scenario", env),
        mask_account_id=get_boolean_input("mask_account_id", env),
        aws_account_id=get_input("aws_account_id", env),
        output_directory=get_input("output_directory", env) or "taskcat_outputs",
    )
