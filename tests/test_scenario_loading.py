"""Scenario files: what loads, and one clear line (file:line:col) for each broken file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, motobox
from motobox.scenario.load import ScenarioError, load_scenario

DESIGN_FILE = Path(__file__).parent / "scenarios" / "design-example.yaml"
DESIGN_EXAMPLE = DESIGN_FILE.read_text()


def test_the_design_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(DESIGN_EXAMPLE)
    s = load_scenario(path)
    assert [r.operation for r in s.rules] == [
        "CreateStack",
        "DescribeStackEvents",
        "GetCallerIdentity",
        "PutObject",
        "DescribeRegions",
    ]
    assert s.rules[0].source == f"{path}#rules[0]" and s.rules[0].fail_stack
    assert s.rules[2].error and s.rules[2].error.status == 403 and s.rules[2].times == 1
    assert s.egress[0].json == {"info": {"version": "99.0.0"}} and s.egress[1].status == 404
    assert s.setup[0].service == "s3" and s.setup[0].kwargs == {"Bucket": "existing-bucket"}
    assert s.expect and s.expect.exit_code == 1


def test_the_readme_example_loads(tmp_path: Path) -> None:
    """The scenario the README shows is a working one (its preset in place)."""
    readme = (ROOT / "README.md").read_text()
    text = "name: " + readme.split("```yaml\nname: ", 1)[1].split("```", 1)[0]
    (tmp_path / "base.yaml").write_text((ROOT / "scenarios" / "taskcat" / "base.yaml").read_text())
    path = tmp_path / "readme.yaml"
    path.write_text(text)
    s = load_scenario(path)
    assert len(s.rules) == 6 and s.rules[-1].seed == 7 and s.expect


def test_every_ready_scenario_passes_motobox_check() -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").rglob("*.yaml"))
    done = motobox(["check", *files])
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(files)


BROKEN = {
    "bad YAML": ("rules:\n  - match: {operation: sts:GetCallerIdentity\n", 3, 1, "YAML"),
    "unknown top-level key": ("name: x\nrulez: []\n", 2, 1, "did you mean 'rules'"),
    "unknown key in a rule": (
        "rules:\n  - match: {operation: 'sts:GetCallerIdentity'}\n    latncy: 1\n",
        3,
        5,
        "did you mean 'latency'",
    ),
    "unknown operation": (
        "rules:\n  - match: {operation: 'cloudformation:CreateStak'}\n    latency: 1\n",
        2,
        24,
        "did you mean 'CreateStack'",
    ),
    "unknown service": (
        "rules:\n  - match: {operation: 'cloudfromation:CreateStack'}\n    latency: 1\n",
        2,
        24,
        "did you mean 'cloudformation'",
    ),
    "patch on a member the shape lacks": (
        "rules:\n  - match: {operation: 'cloudformation:DescribeStacks'}\n"
        "    patch: {'Stacks[*].StackStatuz': CREATE_FAILED}\n",
        3,
        13,
        "did you mean 'StackStatus'",
    ),
    "wrong type in respond": (
        "rules:\n  - match: {operation: 'cloudformation:DescribeStacks'}\n"
        "    respond:\n      Stacks:\n        - StackName: 3\n",
        5,
        22,
        "must be a string, not an integer",
    ),
    "bad enum value": (
        "rules:\n  - match: {operation: 'cloudformation:DescribeStacks'}\n"
        "    respond: {Stacks: [{StackName: s, StackStatus: CREATE_FAILD}]}\n",
        3,
        52,
        "did you mean 'CREATE_FAILED'",
    ),
    "wrong type of a modifier": (
        "rules:\n  - match: {operation: 'sts:GetCallerIdentity'}\n"
        "    latency: 1\n    times: lots\n",
        4,
        12,
        "must be an integer",
    ),
    "duplicate key": ("name: a\nname: b\n", 2, 1, "duplicate key 'name'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_gives_exit_2_and_one_line_with_its_place(case: str, tmp_path: Path) -> None:
    text, line, col, hint = BROKEN[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    done = motobox(["check", str(path)])
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    mine = [x for x in lines if x.startswith(f"{path}:{line}:{col}:")]
    assert mine, f"no line at {line}:{col} in {lines}"
    assert hint in mine[0]


def test_run_refuses_a_broken_scenario_before_starting_the_program(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("rules: [{match: {operation: 'sts:GetCallerIdentty'}, latency: 1}]\n")
    marker = tmp_path / "ran"
    done = motobox(["run", "--scenario", str(path), "--", "touch", str(marker)])
    assert done.returncode == 2 and not marker.exists()
    assert re.match(rf"motobox: {re.escape(str(path))}:1:\d+: sts has no operation", done.stderr)


def test_a_missing_file_is_one_line() -> None:
    done = motobox(["check", "/no/such/scenario.yaml"])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "/no/such/scenario.yaml: cannot read it (No such file or directory); check the path"
    ]


# -- fuzzing: the loader only ever gives a Scenario or a ScenarioError ------------------

SEEDS = [DESIGN_EXAMPLE, *(text for text, *_ in BROKEN.values())]
yaml_like = st.text(alphabet=st.sampled_from(list(":-[]{}'\"#&*!|>%@`,? \n\tabcxyz019.")))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(yaml_like.filter(lambda s: len(s) < 8))
        if op == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + len(chunk) :]
        else:
            text = text[:pos] + chunk + text[pos + len(chunk) :]
    return text


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.one_of(mutated(), yaml_like, st.binary().map(lambda b: b.decode("latin-1"))))
def test_the_loader_only_ever_loads_or_reports_problems(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems and all(p.startswith(str(path)) for p in exc.problems)
        assert all("\n" not in p for p in exc.problems)


def test_alias_bombs_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 8):
        bomb += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1 if i > 1 else ''}"] * 10) + "]\n"
    bomb = bomb.replace("*a0", "*a")
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)
    with pytest.raises(ScenarioError, match="too large or too deeply nested"):
        load_scenario(path)
    path.write_text("a: " + "[" * 200 + "]" * 200 + "\n")
    with pytest.raises(ScenarioError):
        load_scenario(path)
