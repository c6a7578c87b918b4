// `cfn-response` for Node.js functions run by motobox: what `require("cfn-response")` gives
// inline CloudFormation code on Lambda (AWS documents the module's source; this is motobox's
// own with the same behaviour).
//
//   send(event, context, responseStatus, responseData, physicalResourceId, noEcho)
//
// PUTs {Status, Reason, PhysicalResourceId, StackId, RequestId, LogicalResourceId, NoEcho,
// Data} to event.ResponseURL, logs the body and the status code, then ends the invocation
// with context.done() (context.done(error) when the request fails), and returns a promise of
// that. Differences from AWS's module: the URL's own scheme and port are used (AWS's always
// uses https on 443; motobox points ResponseURL at its own cloud, plain http unless --tls),
// and Content-Length counts bytes, not characters. Like AWS's module it ignores HTTPS_PROXY.
"use strict";

exports.SUCCESS = "SUCCESS";
exports.FAILED = "FAILED";

exports.send = function (event, context, responseStatus, responseData, physicalResourceId, noEcho) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({
      Status: responseStatus,
      Reason: "See the details in CloudWatch Log Stream: " + context.logStreamName,
      PhysicalResourceId: physicalResourceId || context.logStreamName,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: noEcho || false,
      Data: responseData,
    });
    console.log("Response body:\n", body);
    const url = new URL(event.ResponseURL);
    const client = url.protocol === "http:" ? require("http") : require("https");
    const request = client.request(
      {
        hostname: url.hostname,
        port: url.port || (url.protocol === "http:" ? 80 : 443),
        path: url.pathname + url.search,
        method: "PUT",
        headers: { "content-type": "", "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        console.log("Status code: " + parseInt(response.statusCode));
        response.resume();
        resolve(context.done());
      },
    );
    request.on("error", (error) => {
      console.log("send(..) failed executing https.request(..): " + error);
      reject(context.done(error));
    });
    request.write(body);
    request.end();
  });
};
