import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { HttpResponse } from "@smithy/core/transport";
import { fastConfig, reuseSigner, skipRetryStep } from "../functions/aws/lean-calls";
import { median } from "./load";

/**
 * `tsx bench/sdk-config-copy.ts [--rounds 8] [--calls 5000]`: what the SDK's per-call copies of
 * a client's config cost. Two SageMaker Runtime clients trimmed as `createAwsClients` trims
 * them (one signer, no retry step), one with its config as the SDK builds it (a dictionary-mode
 * object) and one given a fast copy (`fastConfig`), make InvokeEndpoint calls in alternating
 * rounds against a request handler that answers at once in process: no socket, so the CPU per
 * call is the SDK's own (serialize, endpoint, sign, parse). Prints the median of the rounds.
 */
const { values } = parseArgs({ options: { rounds: { type: "string", default: "8" }, calls: { type: "string", default: "5000" } } });
const rounds = Number(values.rounds);
const calls = Number(values.calls);

const answerAtOnce = {
  handle: async () => ({
    response: new HttpResponse({ statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from("{}") }),
  }),
  updateHttpClientConfig() {},
  httpHandlerConfigs: () => ({}),
};
function client(fast: boolean): SageMakerRuntimeClient {
  const c = new SageMakerRuntimeClient({
    endpoint: "http://127.0.0.1:9",
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
    cacheMiddleware: true,
    requestHandler: answerAtOnce,
  });
  reuseSigner(c);
  skipRetryStep(c);
  if (fast) fastConfig(c);
  return c;
}
const clients = { "config as built": client(false), "fast config": client(true) };
const body = new TextEncoder().encode('{"inputs":[]}');

/** CPU of this process per call, µs. */
async function round(c: SageMakerRuntimeClient): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++)
    await c.send(new InvokeEndpointCommand({ EndpointName: "e", Body: body, ContentType: "application/json" }));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const load = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];
console.log(`start load ${load()}`);
for (const c of Object.values(clients)) await round(c); // warm-up
const perCall: Record<keyof typeof clients, number[]> = { "config as built": [], "fast config": [] };
const names = Object.keys(clients) as (keyof typeof clients)[];
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 ? [...names].reverse() : names) perCall[name].push(await round(clients[name]));
}
for (const name of names) {
  console.log(`${name}: ${median(perCall[name]).toFixed(1)} µs CPU per call (rounds ${perCall[name].map((x) => x.toFixed(0)).join(", ")})`);
}
console.log(`end load ${load()}`);
