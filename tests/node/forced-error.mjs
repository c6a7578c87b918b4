// Calls STS; under the forced-error scenario the SDK must raise ExpiredToken with its message.
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

try {
  await new STSClient({ maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
  console.log("no error");
} catch (err) {
  console.log(`error: ${err.name}: ${err.message}`);
}
