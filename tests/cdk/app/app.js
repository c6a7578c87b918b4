// A CDK v2 app in plain JavaScript (no compile step), deployed by tests/test_cdk_sam.py under
// motobox. `cdk deploy -c variant=2` changes it: a longer queue visibility timeout and one more
// output, an update through a change set.
const cdk = require("aws-cdk-lib");
const dynamodb = require("aws-cdk-lib/aws-dynamodb");
const s3 = require("aws-cdk-lib/aws-s3");
const sns = require("aws-cdk-lib/aws-sns");
const sqs = require("aws-cdk-lib/aws-sqs");

const app = new cdk.App();
const variant = app.node.tryGetContext("variant") ?? "1";
const stack = new cdk.Stack(app, "MotoboxCdk");

const table = new dynamodb.Table(stack, "Table", {
  partitionKey: { name: "id", type: dynamodb.AttributeType.STRING },
  billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  removalPolicy: cdk.RemovalPolicy.DESTROY,
});
const queue = new sqs.Queue(stack, "Queue", {
  visibilityTimeout: cdk.Duration.seconds(variant === "2" ? 120 : 30),
});
const topic = new sns.Topic(stack, "Topic");
const bucket = new s3.Bucket(stack, "Bucket", {
  removalPolicy: cdk.RemovalPolicy.DESTROY,
  autoDeleteObjects: true,
});

new cdk.CfnOutput(stack, "TableName", { value: table.tableName });
new cdk.CfnOutput(stack, "QueueUrl", { value: queue.queueUrl });
new cdk.CfnOutput(stack, "TopicArn", { value: topic.topicArn });
new cdk.CfnOutput(stack, "BucketName", { value: bucket.bucketName });
if (variant === "2") {
  new cdk.CfnOutput(stack, "QueueArn", { value: queue.queueArn });
}
