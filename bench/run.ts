import { fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type LoadResult, median, runLoad, type Target } from "./load";

/**
 * `npm run bench`: iris inference through the whole local gateway (authorizer, registry,
 * alias routing, SageMaker emulator, metering) against the same requests sent straight to
 * the model host, alternating rounds in one run; medians of the rounds and their ratio.
 */
const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "8" },
    concurrency: { type: "string", default: "32" },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

const child = fork("bench/platform-child.ts", { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] });
const info = await new Promise<{ url: string; apiKey: string; modelHosts: Record<string, string> }>((resolve, reject) => {
  child.once("message", (m) => resolve(m as never));
  child.once("exit", (code) => reject(new Error(`platform exited (${code})`)));
});

const body = JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] });
const targets: Record<string, Target> = {
  gateway: {
    url: `${info.url}/v2/models/iris/infer`,
    headers: { authorization: `Bearer ${info.apiKey}`, "content-type": "application/json" },
    body,
  },
  direct: { url: `${info.modelHosts["iris/1"]}/invocations`, headers: { "content-type": "application/json" }, body },
};

const results: Record<string, LoadResult[]> = { gateway: [], direct: [] };
// Warm both paths (JIT, connections, caches) before measuring.
for (const t of Object.values(targets)) await runLoad(t, concurrency, 2);
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? ["gateway", "direct"] : ["direct", "gateway"]) {
    const res = await runLoad(targets[name] as Target, concurrency, seconds);
    results[name]?.push(res);
    console.error(
      `round ${r + 1} ${name}: ${res.throughput.toFixed(0)} req/s, p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, errors ${res.errors}`,
    );
  }
}
child.send("stop");

const summary = Object.fromEntries(
  Object.entries(results).map(([name, rs]) => [
    name,
    {
      throughput: median(rs.map((r) => r.throughput)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      errors: rs.reduce((s, r) => s + r.errors, 0),
    },
  ]),
) as Record<"gateway" | "direct", { throughput: number; p50: number; p99: number; errors: number }>;
const fmt = (n: number, d = 1) => n.toFixed(d).padStart(9);
const lines = [
  `iris /v2/models/iris/infer, ${concurrency} concurrent, ${rounds} rounds x ${seconds} s, medians`,
  "path        req/s      p50 ms    p99 ms   errors",
  `gateway  ${fmt(summary.gateway.throughput, 0)} ${fmt(summary.gateway.p50)} ${fmt(summary.gateway.p99)} ${String(summary.gateway.errors).padStart(8)}`,
  `direct   ${fmt(summary.direct.throughput, 0)} ${fmt(summary.direct.p50)} ${fmt(summary.direct.p99)} ${String(summary.direct.errors).padStart(8)}`,
  `ratio gateway/direct: throughput ${(summary.gateway.throughput / summary.direct.throughput).toFixed(2)}, p50 ${(summary.gateway.p50 / summary.direct.p50).toFixed(2)}x`,
];
console.log(lines.join("\n"));
mkdirSync("bench/results", { recursive: true });
writeFileSync(
  "bench/results/latest.json",
  `${JSON.stringify({ at: new Date().toISOString(), concurrency, rounds, seconds, summary, results }, null, 2)}\n`,
);
