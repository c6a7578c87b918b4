"""The triggers moto wires run functions through motobox's executor: SQS event source mappings
(synchronously, as Lambda's poller does: a failure leaves the message in the queue), and S3
and SNS notifications (asynchronously, as on Lambda)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

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


ECHO = """
import json

LONG = ("Signature", "SigningCertUrl", "UnsubscribeUrl", "receiptHandle")

def short(value):
    if isinstance(value, dict):
        return {k: short(v) for k, v in value.items() if k not in LONG}
    if isinstance(value, list):
        return [short(v) for v in value]
    return value

def handler(event, context):
    print(json.dumps(short(event)))  # the journal keeps the first KB of the output
    return {}
"""


def _event(record: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(record["output"]))


def test_an_sqs_event_carries_the_message_itself(cloud: Cloud) -> None:
    """moto 5.2.5 sends a sample: md5OfBody of "test", a 2018 SentTimestamp, no attributes."""
    import hashlib

    arn = create(cloud, "sqs-echo", {"index.py": ECHO})
    sqs = cloud.client("sqs")
    queue = sqs.create_queue(QueueName="echoed")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    cloud.client("lambda").create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=arn)
    sent = sqs.send_message(
        QueueUrl=queue,
        MessageBody="hello",
        MessageAttributes={"team": {"DataType": "String", "StringValue": "platform"}},
    )
    [run] = wait_for(lambda: runs(cloud, "sqs-echo"), "the SQS event")
    [record] = _event(run)["Records"]
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == "hello"
    assert record["md5OfBody"] == hashlib.md5(b"hello").hexdigest() == sent["MD5OfMessageBody"]
    assert record["messageAttributes"]["team"]["stringValue"] == "platform"
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert record["eventSourceARN"] == queue_arn
    assert abs(int(record["attributes"]["SentTimestamp"]) / 1000 - time.time()) < 60


def test_an_sns_record_names_the_topic_and_the_message(cloud: Cloud) -> None:
    """moto 5.2.5 sends TopicArn "arn:aws:sns:EXAMPLE", a fixed MessageId, a 1970 time."""
    arn = create(cloud, "sns-echo", {"index.py": ECHO})
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="echoing")["TopicArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    published = sns.publish(
        TopicArn=topic,
        Message="hello through sns",
        MessageAttributes={"team": {"DataType": "String", "StringValue": "platform"}},
    )
    [run] = wait_for(lambda: runs(cloud, "sns-echo"), "the SNS event")
    [record] = _event(run)["Records"]
    assert record["EventSubscriptionArn"] == subscription["SubscriptionArn"]
    message = record["Sns"]
    assert message["TopicArn"] == topic
    assert message["MessageId"] == published["MessageId"]
    assert message["Message"] == "hello through sns"
    assert message["Subject"] is None
    assert message["MessageAttributes"] == {"team": {"Type": "String", "Value": "platform"}}
    assert message["Timestamp"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))


def test_an_eventbridge_rule_invokes_its_function(cloud: Cloud) -> None:
    """moto 5.2.5 raises NotImplementedError for a Lambda target: PutEvents was answered {}."""
    arn = create(cloud, "eb-echo", {"index.py": ECHO})
    events = cloud.client("events")
    events.put_rule(Name="to-lambda", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="to-lambda", Targets=[{"Id": "1", "Arn": arn}])
    answer = events.put_events(
        Entries=[{"Source": "my.app", "DetailType": "thing", "Detail": '{"k": 1}'}]
    )
    assert answer["FailedEntryCount"] == 0 and answer["Entries"][0]["EventId"]
    [run] = wait_for(lambda: runs(cloud, "eb-echo"), "the EventBridge target")
    assert run["invocation_type"] == "Event"
    event = _event(run)
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert (event["source"], event["detail-type"], event["detail"]) == ("my.app", "thing", {"k": 1})
    assert event["account"] == "123456789012" and event["time"].endswith("Z")
    [call] = cloud.journal.calls("events:PutEvents")
    assert "emulation" not in call
