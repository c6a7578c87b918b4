"""The Action's step summary (mock: true) says what motobox did not emulate, from the journal."""

from __future__ import annotations

import json
from pathlib import Path

from taskcat_action.run import mock_summary


def test_the_step_summary_lists_stubbed_resources_and_stacks_in_progress(tmp_path: Path) -> None:
    stack = {"account": "123456789012", "region": "us-east-1", "stack": "app", "stack_id": "a"}
    records = [
        {"seq": 1, "kind": "cfn", "event": "stack", **stack, "status": "CREATE_IN_PROGRESS"},
        {
            "seq": 2,
            "kind": "cfn",
            "event": "resource",
            **stack,
            "logical_id": "Product",
            "type": "AWS::ServiceCatalog::CloudFormationProduct",
            "emulation": "stubbed",
        },
        {
            "seq": 3,
            "kind": "cfn",
            "event": "stack",
            **stack,
            "status": "CREATE_COMPLETE",
            "resources": 17,
        },
        {
            "seq": 4,
            "kind": "cfn",
            "event": "stack",
            **{**stack, "stack": "db", "stack_id": "b"},
            "status": "CREATE_IN_PROGRESS",
        },
        {
            "seq": 5,
            "kind": "aws",
            "service": "ses",
            "operation": "ListThings",
            "emulation": "stubbed",
        },
    ]
    journal = tmp_path / "motobox-journal.jsonl"
    journal.write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n")
    assert mock_summary(journal) == (
        "#### Not emulated by motobox\n\n"
        "- stack app: 1 of 17 resources not emulated by moto: "
        "AWS::ServiceCatalog::CloudFormationProduct\n"
        "- stack db: still CREATE_IN_PROGRESS when the program ended\n"
        "- 1 calls to operations moto does not emulate were answered empty: ses:ListThings\n"
    )
    assert mock_summary(tmp_path / "absent.jsonl") == ""
