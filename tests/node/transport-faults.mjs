// Meets a reset and a truncated body with the AWS SDK for JavaScript v3 and prints what the SDK
// itself reports. One attempt each (maxAttempts: 1): the SDK's own retries would only repeat it.
import { S3Client, GetObjectCommand } from "@aws-sdk/client-s3";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const show = (what, err) => console.log(`${what}: ${err.name}: ${err.code ?? "-"}: ${err.message}`);

try {
  await new STSClient({ maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
  console.log("reset: no error");
} catch (err) {
  show("reset", err);
}
try {
  const s3 = new S3Client({ maxAttempts: 1 });
  const got = await s3.send(new GetObjectCommand({ Bucket: "faults-bucket", Key: "big.txt" }));
  const text = await got.Body.transformToString();
  console.log(`truncate: no error (${text.length} characters)`);
} catch (err) {
  show("truncate", err);
}
