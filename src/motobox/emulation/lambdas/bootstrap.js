// motobox's Lambda runtime for Node.js: one execution environment that answers invocations.
//
// Run as `node bootstrap.js TOKEN` by workers.py; the protocol is bootstrap.py's (read its
// docstring): invocations as JSON lines on stdin; the function's output on stdout/stderr (one
// pipe) with control frames `TOKEN {json}\n` written after it; on Linux, writes to pipes are
// synchronous in Node, so output and frames keep their order.
//
// Handlers are CommonJS (`exports.handler`) or ES modules (`.mjs`, or `.js` under
// `"type": "module"`), async or callback-style; errors are shaped as Lambda's Node.js runtime
// shapes them: {"errorType", "errorMessage", "trace"}.
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");
const { pathToFileURL } = require("url");

const token = process.argv[2];
process.argv.splice(2);

function send(frame) {
  fs.writeSync(1, token + " " + JSON.stringify(frame) + "\n");
}

function shape(error) {
  if (error instanceof Error) {
    // Lambda shows the function's frames: the trace ends where this runtime's begin.
    const lines = String(error.stack || "").split("\n");
    const ours = lines.findIndex((line) => line.includes(__filename));
    return {
      errorType: error.name || "Error",
      errorMessage: error.message,
      trace: ours > 0 ? lines.slice(0, ours) : lines,
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function maxRssKb() {
  try {
    return process.resourceUsage().maxRSS;
  } catch (e) {
    return 0;
  }
}

async function load(root, handler) {
  const dot = handler.lastIndexOf(".");
  if (dot < 1) {
    throw Object.assign(new Error(`Bad handler ${handler}`), { name: "Runtime.MalformedHandlerName" });
  }
  const moduleName = handler.slice(0, dot);
  const name = handler.slice(dot + 1);
  const base = path.resolve(root, moduleName);
  let module;
  const candidates = [".js", ".mjs", ".cjs"].filter((ext) => fs.existsSync(base + ext));
  if (candidates.length === 0) {
    throw Object.assign(new Error(`Error: Cannot find module '${moduleName}'`), {
      name: "Runtime.ImportModuleError",
    });
  }
  const file = base + candidates[0];
  try {
    if (file.endsWith(".mjs")) {
      module = await import(pathToFileURL(file).href);
    } else {
      try {
        module = require(file);
      } catch (error) {
        if (error && error.code === "ERR_REQUIRE_ESM") {
          module = await import(pathToFileURL(file).href);
        } else {
          throw error;
        }
      }
    }
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw Object.assign(new Error(`${error.name}: ${error.message}`), {
        name: "Runtime.UserCodeSyntaxError",
        stack: error.stack,
      });
    }
    if (error && error.code === "MODULE_NOT_FOUND") {
      throw Object.assign(new Error(`${error.name}: ${error.message}`), {
        name: "Runtime.ImportModuleError",
        stack: error.stack,
      });
    }
    throw error;
  }
  const fn = module[name] !== undefined ? module[name] : module.default && module.default[name];
  if (typeof fn !== "function") {
    throw Object.assign(new Error(`${handler} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  }
  return fn;
}

function context(request, finish) {
  const env = process.env;
  const deadline = Date.now() + request.timeout_ms;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: request.arn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: request.id,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    // The legacy completion methods, which AWS's cfn-response module still calls.
    done: (error, result) => finish(error, result),
    succeed: (result) => finish(null, result),
    fail: (error) => finish(error || new Error("handled"), undefined),
  };
}

// Node's `https` module ignores HTTPS_PROXY. On Lambda a function's HTTPS requests go out
// through AWS's network; here they go through motobox's egress control, as the proxy variables
// the function gets intend: every `https.Agent` (the global one and those a library makes, as
// the AWS SDK's request handler does) opens a CONNECT tunnel to the proxy for every host
// NO_PROXY does not name. So a request that gives only a host name (`https.request({hostname,
// path})`, as AWS CDK's custom resource handlers send their answer to ResponseURL), and an SDK
// call sent to an AWS host rather than AWS_ENDPOINT_URL (the SQS client sends to the host of
// the QueueUrl it is given, `https://sqs.REGION.amazonaws.com/...` from a stack's `Ref`),
// reach the cloud when the host is an AWS one, and the egress answer (a stub, or 403)
// otherwise, never the internet. A sealed run needs none of it (its DNS and port 443 are
// motobox's) but is served the same way.
function proxyAgent() {
  const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;
  if (!proxy) return;
  let target;
  try {
    target = new URL(proxy);
  } catch (error) {
    return;
  }
  const http = require("http");
  const https = require("https");
  const tls = require("tls");
  const bypass = String(process.env.NO_PROXY || process.env.no_proxy || "")
    .split(",")
    .map((entry) => entry.trim().toLowerCase().replace(/^\*?\./, ""))
    .filter(Boolean);
  const direct = (host) =>
    bypass.some((entry) => entry === "*" || host === entry || host.endsWith("." + entry));

  const original = https.Agent.prototype.createConnection;
  https.Agent.prototype.createConnection = function createConnection(options, callback) {
    const host = String(options.host || options.hostname || "localhost").toLowerCase();
    const port = options.port || 443;
    if (direct(host)) return original.call(this, options, callback);
    const connect = http.request({
      host: target.hostname,
      port: target.port || 80,
      method: "CONNECT",
      path: `${host}:${port}`,
      headers: { host: `${host}:${port}` },
      agent: false,
    });
    connect.once("connect", (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        callback(new Error(`proxy ${proxy} refused CONNECT ${host}:${port}: ${response.statusCode}`));
        return;
      }
      callback(null, tls.connect({ ...options, socket, servername: options.servername || host }));
    });
    connect.once("error", (error) => callback(error));
    connect.end();
    return undefined;
  };
}

async function main() {
  proxyAgent();
  const root = process.env.LAMBDA_TASK_ROOT;
  process.chdir(root);
  const started = process.hrtime.bigint();
  let handler;
  try {
    handler = await load(root, process.env._HANDLER);
  } catch (error) {
    send({ type: "init_error", error: shape(error) });
    process.exit(0);
  }
  send({ type: "ready", init_ms: Number(process.hrtime.bigint() - started) / 1e6 });

  const pending = [];
  let busy = false;
  const input = readline.createInterface({ input: process.stdin });

  async function next() {
    if (busy || pending.length === 0) return;
    busy = true;
    const request = JSON.parse(pending.shift());
    await new Promise((resolve) => {
      let settled = false;
      let idle = null;
      const finish = (error, result) => {
        if (settled) return;
        settled = true;
        if (idle) {
          process.removeListener("beforeExit", idle);
          process.stdin.ref();
        }
        if (error !== null && error !== undefined) {
          send({ type: "error", error: shape(error), max_rss_kb: maxRssKb() });
        } else {
          let payload;
          try {
            payload = JSON.stringify(result === undefined ? null : result);
          } catch (marshal) {
            const error = { errorType: "Runtime.MarshalError", errorMessage: String(marshal), trace: [] };
            send({ type: "error", error, max_rss_kb: maxRssKb() });
            return resolve();
          }
          send({ type: "result", payload, max_rss_kb: maxRssKb() });
        }
        resolve();
      };
      try {
        const event = JSON.parse(request.event);
        const returned = handler(event, context(request, finish), finish);
        if (returned && typeof returned.then === "function") {
          returned.then((result) => finish(null, result), (error) => finish(error));
        } else if (!settled) {
          // As on Lambda, a handler that returns no promise ends when it calls its callback
          // (or context.done, as cfn-response does), or else when nothing is left to do: the
          // event loop empties once stdin no longer holds it ("beforeExit").
          idle = () => finish(null, null);
          process.once("beforeExit", idle);
          process.stdin.unref();
        }
      } catch (error) {
        finish(error);
      }
    });
    busy = false;
    next();
  }

  input.on("line", (line) => {
    pending.push(line);
    next();
  });
  input.on("close", () => process.exit(0));
}

main();
