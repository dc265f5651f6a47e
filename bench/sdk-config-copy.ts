import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { HttpResponse } from "@smithy/core/transport";
import { fastConfig, reuseSigner, skipRetryStep } from "../functions/aws/lean-calls";
import { median } from "./load";
import { stolenSeconds } from "./proc-cpu";

/**
 * `tsx bench/sdk-config-copy.ts [--rounds 8] [--calls 5000]`: what the SDK's per-call copies of
 * a client's config cost. Two SageMaker Runtime clients trimmed as `createAwsClients` trims
 * them (one signer, no retry step), one with its config as the SDK builds it (a dictionary-mode
 * object) and one given a fast copy (`fastConfig`), make InvokeEndpoint calls in alternating
 * rounds against a request handler that answers at once in process: no socket, so the CPU per
 * call is the SDK's own (serialize, endpoint, sign, parse). Prints the median of the rounds,
 * and what one copy of each client's config costs (the endpoint step makes one per call).
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

/** µs per `{ ...config }` of each client's config, 100,000 copies kept in a ring so none is optimized away. */
function copyCost(config: object): number {
  const ring: object[] = new Array(64);
  const start = performance.now();
  for (let i = 0; i < 100_000; i++) ring[i & 63] = { ...config };
  return ((performance.now() - start) * 1000) / 100_000;
}

const stolenAtStart = stolenSeconds();
console.log(`start load ${loadavg()[0]?.toFixed(2)}`);
for (const c of Object.values(clients)) await round(c); // warm-up
const perCall: Record<keyof typeof clients, number[]> = { "config as built": [], "fast config": [] };
const perCopy: Record<keyof typeof clients, number[]> = { "config as built": [], "fast config": [] };
const names = Object.keys(clients) as (keyof typeof clients)[];
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 ? [...names].reverse() : names) {
    perCall[name].push(await round(clients[name]));
    perCopy[name].push(copyCost(clients[name].config));
  }
}
for (const name of names) {
  console.log(
    `${name}: ${median(perCall[name]).toFixed(1)} µs CPU per call (rounds ${perCall[name].map((x) => x.toFixed(0)).join(", ")}); ` +
      `one copy of its config ${median(perCopy[name]).toFixed(2)} µs`,
  );
}
console.log(`end load ${loadavg()[0]?.toFixed(2)}, ${(stolenSeconds() - stolenAtStart).toFixed(1)} CPU s stolen`);
