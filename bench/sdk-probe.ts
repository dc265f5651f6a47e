/**
 * `tsx bench/sdk-probe.ts`: what one HTTP call costs this machine's CPU, by client, against a
 * trivial in-process server: an AWS SDK v3 call (SageMaker Runtime InvokeEndpoint), undici
 * `fetch`, and bare `node:http` with a keep-alive agent. CPU per call counts client and server
 * (both in this process). The gateway path makes one SDK call per request plus its share of
 * the metering batches, so this is the floor under its CPU per request.
 */
import { createServer } from "node:http";
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;
const client = new SageMakerRuntimeClient({
  endpoint: `http://127.0.0.1:${port}`,
  region: "us-east-1",
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
  maxAttempts: 1,
});
const body = new TextEncoder().encode(JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] }));
const call = () => client.send(new InvokeEndpointCommand({ EndpointName: "e", Body: body, ContentType: "application/json" }));
/** 32 callers making 50 calls each: wall time and CPU (this process) per call. */
async function concurrent(label: string, once: () => Promise<unknown>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = 0; i < 50; i++) await once();
    }),
  );
  const used = process.cpuUsage(cpu0);
  console.log(
    `32 concurrent ${label}: ${((performance.now() - t0) / 1600).toFixed(2)} ms wall, ${((used.user + used.system) / 1000 / 1600).toFixed(2)} ms cpu per call`,
  );
}
for (let i = 0; i < 200; i++) await call();
const cpu = process.cpuUsage();
const t = performance.now();
for (let i = 0; i < 1000; i++) await call();
const c = process.cpuUsage(cpu);
console.log(
  `sequential sdk: ${((performance.now() - t) / 1000).toFixed(2)} ms wall, ${((c.user + c.system) / 1000 / 1000).toFixed(2)} ms cpu per call (user ${(c.user / 1e6).toFixed(2)}, sys ${(c.system / 1e6).toFixed(2)})`,
);
await concurrent("sdk", call);
await concurrent("fetch", async () => {
  const r = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body });
  await r.arrayBuffer();
});
const { Agent, request } = await import("node:http");
const agent = new Agent({ keepAlive: true, maxSockets: 32 });
const raw = () =>
  new Promise<void>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/",
        agent,
        headers: { "content-type": "application/json", "content-length": body.byteLength },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve());
      },
    );
    req.on("error", reject);
    req.end(body);
  });
await concurrent("node:http", raw);
server.close();
process.exit(0);
