"""Scenario files: the custom_resource effect and strict: true, and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from motobox.scenario.load import ScenarioError, load_scenario


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return load_scenario(path)


def test_a_custom_resource_rule_and_strict_load(tmp_path: Path) -> None:
    scenario = _load(
        tmp_path,
        "strict: true\n"
        "rules:\n"
        "  - match: {resource_type: 'Custom::*', stack: app}\n"
        "    custom_resource: {status: SUCCESS, data: {Url: https://example.com}}\n",
    )
    assert scenario.strict  # type: ignore[attr-defined]
    (rule,) = scenario.rules  # type: ignore[attr-defined]
    assert rule.resource_type == "Custom::*" and rule.stack == "app"
    assert rule.custom_resource.data == {"Url": "https://example.com"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "rules:\n  - match: {operation: 'cloudformation:CreateStack'}\n"
            "    custom_resource: {status: SUCCESS}\n",
            "s.yaml:2:13: a custom_resource rule matches custom resources, not calls; use "
            "resource_type or logical_id instead of operation",
        ),
        (
            "rules:\n  - match: {logical_id: Lookup}\n    error: {code: Boom}\n",
            "s.yaml:2:13: match.logical_id is for custom_resource rules; give the rule a "
            "custom_resource effect or match on operation",
        ),
        (
            "rules:\n  - match: {logical_id: Lookup}\n    custom_resource: {status: DONE}\n",
            "s.yaml:3:31: rules.0.custom_resource.status: 'DONE' is not one of SUCCESS, FAILED",
        ),
    ],
)
def test_custom_resource_rule_mistakes_are_one_line_each(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        _load(tmp_path, text)
    assert [p.split("/")[-1] for p in caught.value.problems] == [problem]
