// Lists buckets and gets the caller identity with the AWS SDK for JavaScript v3.
// It reads no endpoint from us: motobox's environment (AWS_ENDPOINT_URL) redirects it.
import { S3Client, ListBucketsCommand } from "@aws-sdk/client-s3";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const s3 = new S3Client({ forcePathStyle: true });
const buckets = await s3.send(new ListBucketsCommand({}));
console.log("buckets:", (buckets.Buckets ?? []).map((b) => b.Name).join(","));
const me = await new STSClient({}).send(new GetCallerIdentityCommand({}));
console.log("account:", me.Account);
