// The AWS SDK for JavaScript v3 as an application uses it: default (virtual-hosted) S3
// addressing, no endpoint and no proxy in the code. Prints one line per step; the test compares.
import { createHash } from "node:crypto";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  ListObjectsV2Command,
  GetObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { DynamoDBClient, CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, GetCommand } from "@aws-sdk/lib-dynamodb";

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

for (const [region, bucket] of [
  ["us-east-1", "motobox-node-east"],
  ["eu-west-1", "motobox-node-west"],
]) {
  const s3 = new S3Client({ region });
  const config =
    region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region } };
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ...config }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "hello.txt", Body: `hi ${region}` }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  console.log(`${region} ${bucket}: ${(listed.Contents ?? []).map((o) => o.Key).join(",")}`);
}

// 20 MiB through lib-storage: four 5 MiB parts (CreateMultipartUpload, UploadPart x4,
// CompleteMultipartUpload), then downloaded and compared.
const s3 = new S3Client({ region: "us-east-1" });
const big = Buffer.alloc(20 * 1024 * 1024);
for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
await new Upload({
  client: s3,
  params: { Bucket: "motobox-node-east", Key: "big.bin", Body: big },
  partSize: 5 * 1024 * 1024,
  queueSize: 2,
}).done();
const got = await s3.send(new GetObjectCommand({ Bucket: "motobox-node-east", Key: "big.bin" }));
const back = Buffer.from(await got.Body.transformToByteArray());
console.log(`multipart: ${back.length} bytes, ${sha256(back) === sha256(big) ? "same" : "DIFFERENT"}`);

const dynamodb = new DynamoDBClient({ region: "us-east-1" });
await dynamodb.send(
  new CreateTableCommand({
    TableName: "motobox-node-table",
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  }),
);
const documents = DynamoDBDocumentClient.from(dynamodb);
await documents.send(
  new PutCommand({ TableName: "motobox-node-table", Item: { id: "a", tags: ["x", "y"], n: 7 } }),
);
const item = await documents.send(new GetCommand({ TableName: "motobox-node-table", Key: { id: "a" } }));
console.log(`document: ${JSON.stringify(item.Item)}`);
