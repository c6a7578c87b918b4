"""``motobox action`` behaves as the GitHub runner does: each table row is a small composite
action and what the runner makes of it."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import motobox
from motobox.action import ActionResult, run_action
from motobox.action.commands import CommandLog, parse_command
from motobox.action.expressions import ExpressionError, condition, evaluate, interpolate
from motobox.action.files import FileCommandError, parse_file_command


def _write_action(folder: Path, steps: list[dict[str, Any]], **extra: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    action = {"name": "t", "runs": {"using": "composite", "steps": steps}, **extra}
    (folder / "action.yml").write_text(yaml.safe_dump(action, sort_keys=False))
    return folder


def _run(
    tmp_path: Path,
    steps: list[dict[str, Any]],
    given: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    **extra: Any,
) -> ActionResult:
    """Runs a composite action of ``steps`` (``extra``: more of action.yml) with inputs
    ``given``."""
    action = _write_action(tmp_path / "action", steps, **extra)
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    return run_action(
        action,
        given or {},
        workspace=ws,
        tool_cache=tmp_path / "cache",
        env=env or {"PATH": "/usr/bin:/bin"},
    )


def bash(script: str, **more: Any) -> dict[str, Any]:
    return {"shell": "bash", "run": textwrap.dedent(script), **more}


# -- inputs ------------------------------------------------------------------------------------
INPUTS = {
    "commands": {"required": True},
    "update_taskcat": {"default": "false"},
    "my-input": {"default": "dash"},
    "Mixed Case": {"default": "spaced"},
    "flag": {"default": False},
}


@pytest.mark.parametrize(
    ("given", "expression", "seen"),
    [
        ({"commands": "test run"}, "${{ inputs.commands }}", "test run"),
        ({"COMMANDS": "upper"}, "${{ inputs.commands }}", "upper"),  # names ignore case
        ({"commands": "x"}, "${{ inputs.COMMANDS }}", "x"),
        ({"commands": "x"}, "${{ inputs.update_taskcat }}", "false"),  # default
        ({"commands": "x"}, "${{ inputs.my-input }}", "dash"),  # hyphen kept
        ({"commands": "x", "my-input": "set"}, "${{ inputs.my-input }}", "set"),
        ({"commands": "x"}, "${{ inputs['Mixed Case'] }}", "spaced"),
        ({"commands": "x"}, "${{ inputs.flag }}", "false"),  # YAML false becomes 'false'
        ({"commands": "x"}, "${{ inputs.missing }}", ""),
    ],
)
def test_inputs_reach_steps_through_expressions(
    tmp_path: Path, given: dict[str, str], expression: str, seen: str
) -> None:
    result = _run(
        tmp_path,
        [bash(f'echo "seen=[{expression}]"')],
        given,
        inputs=INPUTS,
    )
    assert result.exit_code == 0, result.output
    assert f"seen=[{seen}]" in result.log


def test_composite_steps_get_no_input_variables(tmp_path: Path) -> None:
    """As on GitHub: without an env: mapping, $INPUT_COMMANDS is empty in a composite step,
    even when the runner's own environment has one."""
    result = _run(
        tmp_path,
        [
            bash('echo "unmapped=[${INPUT_COMMANDS:-}]"'),
            bash(
                'echo "mapped=[$INPUT_COMMANDS]"', env={"INPUT_COMMANDS": "${{ inputs.commands }}"}
            ),
        ],
        {"commands": "test run"},
        env={"PATH": "/usr/bin:/bin", "INPUT_COMMANDS": "from the parent"},
        inputs=INPUTS,
    )
    assert "unmapped=[]" in result.log
    assert "mapped=[test run]" in result.log


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "comands=x"], "unknown input 'comands'"),
        (["--input", "comands=x"], "did you mean 'commands'?"),
        ([], "input 'commands' is required; pass --input commands=VALUE"),
        (["--input", "novalue"], "--input 'novalue' is not NAME=VALUE"),
    ],
)
def test_bad_inputs_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    action = _write_action(tmp_path / "a", [bash("true")], inputs=INPUTS)
    done = motobox(["action", str(action), "--workspace", str(tmp_path), *args])
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("action_yml", "message"),
    [
        ("runs: {using: node20, main: index.js}", "runs composite actions only"),
        ("runs: {using: composite, steps: [{run: echo}]}", "needs `shell:`"),
        ("runs: {using: composite, steps: [{}]}", "exactly one of `run:` or `uses:`"),
        ("runs: [oops", "fix the YAML"),
    ],
)
def test_bad_action_files_are_one_line(tmp_path: Path, action_yml: str, message: str) -> None:
    (tmp_path / "action.yml").write_text(action_yml)
    done = motobox(["action", str(tmp_path), "--workspace", str(tmp_path)])
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert str(tmp_path / "action.yml") in done.stderr


# -- outputs -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("a=1\n", {"a": "1"}),
        ("a=x=y\n", {"a": "x=y"}),  # only the first = splits
        ("a=\n", {"a": ""}),
        ("a<<EOF\nline 1\nline 2\nEOF\n", {"a": "line 1\nline 2"}),
        ("a<<EOF\nx=1\nEOF\nb=2\n", {"a": "x=1", "b": "2"}),  # = inside a heredoc is data
        ("a<<EOF\r\none\r\nEOF\r\n", {"a": "one"}),  # CRLF files
        ("a<<ghadelimiter_1\n\nghadelimiter_1\n", {"a": ""}),
        ("a=1\na=2\n", {"a": "2"}),  # the last one wins
    ],
)
def test_file_commands_parse_like_the_runner(text: str, values: dict[str, str]) -> None:
    assert parse_file_command(text, "GITHUB_OUTPUT") == values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a<<EOF\nno end\n", "Matching delimiter not found 'EOF'"),
        ("just a line\n", "Invalid format 'just a line'"),
    ],
)
def test_broken_file_commands_fail_the_step(text: str, message: str) -> None:
    with pytest.raises(FileCommandError, match=message):
        parse_file_command(text, "GITHUB_OUTPUT")


def test_outputs_env_path_and_summary_flow_between_steps(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "hello-tool").write_text("#!/bin/sh\necho hello from the tool\n")
    (bin_dir / "hello-tool").chmod(0o755)
    result = _run(
        tmp_path,
        [
            bash(
                f"""
                echo "one=first" >> "$GITHUB_OUTPUT"
                {{ echo "multi<<END"; echo "a"; echo "b"; echo "END"; }} >> "$GITHUB_OUTPUT"
                echo "SHARED=from step 1" >> "$GITHUB_ENV"
                echo "{bin_dir}" >> "$GITHUB_PATH"
                echo "### Hello" >> "$GITHUB_STEP_SUMMARY"
                echo "key=value" >> "$GITHUB_STATE"
                """,
                id="first",
            ),
            bash(
                'echo "env=[$SHARED] out=[${{ steps.first.outputs.one }}]"; hello-tool\n'
                'echo "outcome=${{ steps.first.outcome }}"'
            ),
        ],
        outputs={"multi": {"value": "${{ steps.first.outputs.multi }}"}},
    )
    assert result.exit_code == 0, result.output
    assert "env=[from step 1] out=[first]" in result.log
    assert "hello from the tool" in result.log
    assert "outcome=success" in result.log
    assert result.outputs == {"multi": "a\nb"}
    assert result.summary == "### Hello\n"
    assert result.state == {"key": "value"}


# -- if: and failures ----------------------------------------------------------------------------
def test_if_conditions_after_a_failed_step(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        [
            bash("echo before; exit 3", id="bad"),
            bash("echo SHOULD-NOT-RUN"),
            bash("echo always-ran", **{"if": "${{ always() }}"}),
            bash("echo failure-ran", **{"if": "failure()"}),
            bash("echo success-ran", **{"if": "success()"}),
            bash("echo outcome=${{ steps.bad.outcome }}", **{"if": "always()"}),
            bash("echo input-compare", **{"if": "always() && inputs.mode == 'LOUD'"}),
            bash("echo implied-success", **{"if": "inputs.mode == 'loud'"}),
        ],
        {"mode": "loud"},
        inputs={"mode": {"default": "quiet"}},
    )
    assert result.exit_code == 3
    log = result.log
    assert "SHOULD-NOT-RUN" not in log
    assert "always-ran" in log and "failure-ran" in log and "success-ran" not in log
    assert "outcome=failure" in log
    assert "input-compare" in log  # == ignores case
    assert "implied-success" not in log  # success() && is implied without a status function
    assert [s.outcome for s in result.steps] == [
        "failure",
        "skipped",
        "success",
        "success",
        "skipped",
        "success",
        "success",
        "skipped",
    ]


def test_continue_on_error_keeps_the_action_green(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        [
            bash("exit 1", id="x", **{"continue-on-error": True}),
            bash("echo next=${{ steps.x.outcome }}/${{ steps.x.conclusion }}"),
        ],
    )
    assert result.exit_code == 0
    assert "next=failure/success" in result.log


@pytest.mark.parametrize(
    ("shell", "script", "expected_code"),
    [
        ("bash", "false | true", 1),  # pipefail
        ("bash", "set +o pipefail; false | true", 0),
        ("bash", "false; echo not reached", 1),  # -e
        ("sh", "false; echo not reached", 1),  # -e
        ("python", "import sys; print('py'); sys.exit(4)", 4),
        ("bash {0}", "exit 5", 5),
    ],
)
def test_shells_run_as_on_github(
    tmp_path: Path, shell: str, script: str, expected_code: int
) -> None:
    env = {"PATH": "/usr/bin:/bin:" + str(Path(sys.executable).parent)}
    result = _run(tmp_path, [{"shell": shell, "run": script}], env=env)
    assert result.exit_code == expected_code, result.output
    assert "not reached" not in result.log


# -- workflow commands ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "name", "props", "data"),
    [
        ("::error::plain", "error", {}, "plain"),
        (
            "::error title=T,file=a.py,line=3::msg",
            "error",
            {"title": "T", "file": "a.py", "line": "3"},
            "msg",
        ),
        ("::warning title=a%3Ab%2Cc::x%0Ay%25z", "warning", {"title": "a:b,c"}, "x\ny%z"),
        ("::notice::100%25 done%0D%0A", "notice", {}, "100% done\r\n"),
        ("  ::debug::indented", "debug", {}, "indented"),
        ("::add-mask::s3cr3t", "add-mask", {}, "s3cr3t"),
        ("::group::Title", "group", {}, "Title"),
        ("::endgroup::", "endgroup", {}, ""),
    ],
)
def test_workflow_commands_unescape_like_the_runner(
    line: str, name: str, props: dict[str, str], data: str
) -> None:
    cmd = parse_command(line)
    assert cmd is not None
    assert (cmd.name, cmd.properties, cmd.data) == (name, props, data)


@pytest.mark.parametrize("line", ["::unknown::x", "text ::error::x", ":error::x", "::error"])
def test_lines_that_are_not_commands(line: str) -> None:
    assert parse_command(line) is None


def test_masks_groups_annotations_and_stop_commands(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        [
            bash(
                """
                echo "::add-mask::hunter2"
                echo "password is hunter2"
                echo "::group::Install"
                echo "inside"
                echo "::endgroup::"
                echo "::error title=Bad hunter2,file=t.yaml,line=4::failed with hunter2"
                echo "::stop-commands::pause123"
                echo "::error::not an annotation while stopped"
                echo "::pause123::"
                echo "::warning::counted again"
                echo "out=hunter2" >> "$GITHUB_OUTPUT"
                echo "summary hunter2" >> "$GITHUB_STEP_SUMMARY"
                """,
                id="s",
                name="masks",
            )
        ],
        outputs={"out": {"value": "${{ steps.s.outputs.out }}"}},
    )
    text = result.output + result.report()
    assert "hunter2" not in text
    assert "password is ***" in result.log
    assert "▸ Install" in result.log
    assert [(a.level, a.title, a.message, a.file, a.line) for a in result.annotations] == [
        ("error", "Bad ***", "failed with ***", "t.yaml", "4"),
        ("warning", None, "counted again", None, None),
    ]
    assert "::error::not an annotation while stopped" in result.log
    assert result.outputs == {"out": "***"}
    assert result.summary == "summary ***\n"
    assert result.masked == 1


def test_multiline_masks_hide_each_line() -> None:
    log = CommandLog()
    log.feed("::add-mask::first%0Asecond")
    log.feed("a first b second c")
    assert log.lines == ["a *** b *** c"]


def test_upload_artifact_copies_into_the_workspace(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        [
            bash("mkdir -p out/sub && echo 1 > out/a.txt && echo 2 > out/sub/b.txt"),
            {"uses": "actions/upload-artifact@v4", "with": {"name": "things", "path": "out"}},
            {"uses": "actions/upload-artifact@v4", "with": {"name": "none", "path": "missing"}},
            {"uses": "actions/checkout@v4"},
        ],
    )
    assert result.exit_code == 0
    target = tmp_path / "ws" / ".motobox-artifacts" / "things"
    assert (target / "a.txt").read_text() == "1\n" and (target / "sub" / "b.txt").is_file()
    assert result.artifacts == {"things": target}
    assert any(
        "No files were found with the provided path: missing" in a.message
        for a in result.annotations
    )
    assert "`uses: actions/checkout@v4` is recorded, not run" in result.output


# -- expressions -------------------------------------------------------------------------------
CONTEXTS = {
    "inputs": {"name": "World", "n": "3", "empty": "", "list": "[1,2]"},
    "steps": {"a": {"outputs": {"x": "1"}}},
    "github": {"event": {"labels": ["bug", "ci"]}},
}
STATUS = {"success": lambda: True, "failure": lambda: False, "always": lambda: True}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("inputs.name", "World"),
        ("inputs.NAME", "World"),
        ("inputs['name']", "World"),
        ("steps.a.outputs.x == 1", True),  # '1' == 1 by number
        ("inputs.n > 2", True),
        ("inputs.name == 'world'", True),  # strings ignore case
        ("inputs.name != 'World'", False),
        ("inputs.empty || 'fallback'", "fallback"),  # || returns an operand
        ("inputs.name && 'yes'", "yes"),
        ("!inputs.empty", True),
        ("null == 0", True),
        ("true == 1", True),
        ("'' == 0", True),
        ("'abc' == 0", False),  # NaN
        ("0x10 == 16", True),
        ("contains(github.event.labels, 'BUG')", True),
        ("contains('Hello World', 'world')", True),
        ("startsWith(inputs.name, 'wo')", True),
        ("endsWith(inputs.name, 'LD')", True),
        ("format('{0}-{1} {{x}}', inputs.name, 2)", "World-2 {x}"),
        ("fromJSON(inputs.list)[1]", 2),
        ("join(github.event.labels, '+')", "bug+ci"),
        ("github.event.missing.deeper", None),
        ("(1 < 2) && (2 <= 2) && !(3 < 2)", True),
        ("'it''s'", "it's"),
        ("success() && failure()", False),
    ],
)
def test_expressions(expression: str, value: Any) -> None:
    assert evaluate(expression, CONTEXTS, STATUS) == value


def test_expression_numbers_and_strings_in_text() -> None:
    assert interpolate("n=${{ 1.5 }} b=${{ true }} z=${{ null }}.", CONTEXTS) == "n=1.5 b=true z=."


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("inputs.", "expected a property name"),
        ("secrets.token", "unknown context 'secrets'"),
        ("nope()", "unknown function nope()"),
        ("'open", "unexpected character"),
        ("(1", "expected ')'"),
    ],
)
def test_bad_expressions_say_where(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluate(expression, CONTEXTS, STATUS)


@pytest.mark.parametrize(
    ("text", "failed", "runs"),
    [
        ("", False, True),
        ("", True, False),
        ("always()", True, True),
        ("${{ failure() }}", True, True),
        ("inputs.name == 'World'", True, False),
        ("inputs.name == 'World'", False, True),
        ("cancelled()", False, False),
    ],
)
def test_if_conditions(text: str, failed: bool, runs: bool) -> None:
    functions = {
        "success": lambda: not failed,
        "failure": lambda: failed,
        "always": lambda: True,
        "cancelled": lambda: False,
    }
    assert condition(text, CONTEXTS, functions) is runs
