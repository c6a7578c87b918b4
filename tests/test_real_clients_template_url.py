"""TemplateURL on the cloud's own endpoint: CDK and SAM upload a template and pass its URL in
S3's path style, built from AWS_ENDPOINT_URL (``http://127.0.0.1:PORT/BUCKET/KEY``); nested
stacks carry the same form. Shown with the AWS CLI v1, and the moto fix
(``motobox.emulation.cloudformation.template_url``) with it on and off."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import AWS_CLI, require
from motobox.cloud import Cloud
from motobox.emulation.cloudformation.template_url import bucket_and_key
from real_clients import aws_records, run_client, tail

# The templates are written by the script: the parent's child URL needs the run's endpoint.
SCRIPT = """
set -e
aws=$1
cat > child.yaml <<EOF
Resources:
  Queue:
    Type: AWS::SQS::Queue
EOF
cat > parent.yaml <<EOF
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: $AWS_ENDPOINT_URL/motobox-templates/child.yaml
EOF
$aws s3 mb s3://motobox-templates > /dev/null
$aws s3 cp child.yaml s3://motobox-templates/child.yaml --only-show-errors
$aws s3 cp parent.yaml s3://motobox-templates/parent.yaml --only-show-errors
url=$AWS_ENDPOINT_URL/motobox-templates
$aws cloudformation create-stack --stack-name by-url --template-url "$url/child.yaml" > /dev/null
echo "stack $($aws cloudformation describe-stacks --stack-name by-url \
    --output text --query 'Stacks[0].StackStatus')"
$aws cloudformation create-change-set --stack-name by-change-set --change-set-name first \
    --change-set-type CREATE --template-url "$url/child.yaml" > /dev/null
echo "change set $($aws cloudformation describe-change-set --stack-name by-change-set \
    --change-set-name first --output text --query Status)"
$aws cloudformation create-stack --stack-name nested --template-url "$url/parent.yaml" > /dev/null
echo "nested $($aws cloudformation describe-stack-resources --stack-name nested --output text \
    --query 'StackResources[0].[ResourceType,ResourceStatus]')"
echo "queues $($aws sqs list-queues --output text --query 'length(QueueUrls)')"
$aws cloudformation describe-stacks --output text --query 'Stacks[].[StackName,StackStatus]'
"""


def test_stacks_change_sets_and_nested_stacks_read_path_style_template_urls(
    tmp_path: Path,
) -> None:
    aws = require(AWS_CLI)
    journal = tmp_path / "j.jsonl"
    done = run_client(["sh", "-c", SCRIPT, "sh", aws], sealed=False, journal=journal, cwd=tmp_path)
    assert done.returncode == 0, tail(done)
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        "stack CREATE_COMPLETE",
        "change set CREATE_COMPLETE",
        "nested AWS::CloudFormation::Stack\tCREATE_COMPLETE",
        "queues 2",  # by-url's queue and the nested child's (the change set is not executed)
    ]
    stacks = sorted(tuple(line.split("\t")) for line in lines[4:])
    assert [(name.rsplit("-", 1)[0] if "-Child-" in name else name, status)
            for name, status in stacks] == [
        ("by-change-set", "REVIEW_IN_PROGRESS"),
        ("by-url", "CREATE_COMPLETE"),
        ("nested", "CREATE_COMPLETE"),
        ("nested-Child", "CREATE_COMPLETE"),
    ]  # fmt: skip
    errors = [(r["operation"], r["error"]) for r in aws_records(journal) if r["error"]]
    assert errors == []


@pytest.mark.parametrize(
    ("url", "bucket", "key"),
    [
        ("http://127.0.0.1:4566/cdk-assets/t/stack.json", "cdk-assets", "t/stack.json"),
        ("http://localhost:5000/b/k.yaml", "b", "k.yaml"),
        ("http://motobox:8080/b/dir/k.yaml", "b", "dir/k.yaml"),
        ("https://s3.amazonaws.com/b/k.yaml", "b", "k.yaml"),
        ("https://s3.eu-west-1.amazonaws.com/b/k.yaml", "b", "k.yaml"),
        ("https://s3-eu-west-1.amazonaws.com/b/k.yaml", "b", "k.yaml"),
        ("https://b.s3.amazonaws.com/k.yaml", "b", "k.yaml"),
        ("https://b.s3.us-west-2.amazonaws.com/dir/k.yaml", "b", "dir/k.yaml"),
        ("https://my.dotted.bucket.s3.amazonaws.com/k.yaml", "my.dotted.bucket", "k.yaml"),
        ("https://logs.s3.backup.s3.eu-west-1.amazonaws.com/k", "logs.s3.backup", "k"),
        ("https://b.s3.dualstack.eu-west-1.amazonaws.com/k", "b", "k"),
        ("https://b.s3.cn-north-1.amazonaws.com.cn/k", "b", "k"),
        ("https://s3.amazonaws.com/b/a%20b.yaml", "b", "a b.yaml"),
    ],
)
def test_template_url_bucket_and_key(url: str, bucket: str, key: str) -> None:
    assert bucket_and_key(url) == (bucket, key)


def test_moto_reads_bucket_127_without_the_fix_and_the_template_with_it() -> None:
    """moto's own function (kept as ``__wrapped__`` once the fix is in) still asks for bucket
    ``127``: when this fails, moto fixed it upstream and the fix can go."""
    from moto.cloudformation import utils
    from moto.s3.exceptions import MissingBucket

    with Cloud() as cloud:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket="motobox-templates")
        s3.put_object(Bucket="motobox-templates", Key="t.yaml", Body=b"Resources: {}\n")
        cloud.client("cloudformation").list_stacks()  # the gateway applies the fix
        url = f"{cloud.endpoint_url}/motobox-templates/t.yaml"
        fixed = utils.get_stack_from_s3_url
        upstream = getattr(fixed, "__wrapped__", None)
        assert upstream is not None, "the fix is not applied"
        with pytest.raises(MissingBucket) as missing:
            upstream(url, account_id=cloud.account, partition="aws")
        assert missing.value.bucket_name == "127"
        assert fixed(url, account_id=cloud.account, partition="aws") == "Resources: {}\n"
