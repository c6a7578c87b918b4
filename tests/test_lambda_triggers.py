"""The triggers moto wires run functions through motobox's executor: SQS event source mappings
(synchronously, as Lambda's poller does: a failure leaves the message in the queue), and S3
and SNS notifications (asynchronously, as on Lambda)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from lambda_code import create, runs, wait_for
from motobox import Cloud

RECORDS = """
import json

def handler(event, context):
    for record in event["Records"]:
        body = (record.get("body") or record.get("Sns", {}).get("Message")
                or json.dumps(record.get("s3", {}).get("object")))
        print("got", body)
        if body == "fail":
            raise RuntimeError("cannot take this message")
    return {"ok": len(event["Records"])}
"""


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    with Cloud() as running:
        yield running


def test_an_sqs_event_source_mapping_runs_the_function(cloud: Cloud) -> None:
    arn = create(cloud, "from-sqs", {"index.py": RECORDS})
    sqs = cloud.client("sqs")
    queue = sqs.create_queue(QueueName="to-lambda")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    cloud.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=arn, BatchSize=1
    )
    sqs.send_message(QueueUrl=queue, MessageBody="hello through sqs")
    [record] = runs(cloud, "from-sqs")
    assert record["status"] == "ok" and record["output"] == "got hello through sqs\n"
    assert record["invocation_type"] == "RequestResponse"
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)  # handled: deleted

    sqs.send_message(QueueUrl=queue, MessageBody="fail")
    failed = runs(cloud, "from-sqs")[-1]
    assert failed["status"] == "error" and failed["error"] == "RuntimeError"
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]  # visible again
    assert message["Body"] == "fail"


def test_s3_and_sns_notifications_invoke_the_function_asynchronously(cloud: Cloud) -> None:
    arn = create(cloud, "from-notifications", {"index.py": RECORDS})
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="notifying")
    s3.put_bucket_notification_configuration(
        Bucket="notifying",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket="notifying", Key="new-object", Body=b"x")
    [record] = wait_for(lambda: runs(cloud, "from-notifications"), "the S3 notification")
    assert record["invocation_type"] == "Event" and record["status"] == "ok"
    assert json.loads(record["output"].removeprefix("got "))["key"] == "new-object"

    sns = cloud.client("sns")
    topic = sns.create_topic(Name="to-lambda")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello through sns")
    records = wait_for(lambda: runs(cloud, "from-notifications")[1:], "the SNS notification")
    assert records[0]["invocation_type"] == "Event"
    assert records[0]["output"] == "got hello through sns\n"
