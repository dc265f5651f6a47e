import { fork } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runLoad } from "./load";

/**
 * `tsx bench/profile.ts [--metering off] [--seconds 15] [--concurrency 32]`: loads the
 * gateway path of a platform child and takes a V8 CPU profile of the child during the loaded
 * window only; prints the functions with the most self time, and keeps the .cpuprofile for
 * Chrome DevTools.
 */
const { values } = parseArgs({
  options: {
    metering: { type: "string", default: "on" },
    seconds: { type: "string", default: "15" },
    concurrency: { type: "string", default: "32" },
    top: { type: "string", default: "40" },
  },
});
const child = fork("bench/platform-child.ts", {
  execArgv: ["--import", "tsx"],
  stdio: ["ignore", "ignore", "inherit", "ipc"],
  env: { ...process.env, ...(values.metering === "off" ? { MODELGATE_BENCH_METERING: "off" } : {}) },
});
const next = () =>
  new Promise<unknown>((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`platform exited (${code})`)));
  });
const info = (await next()) as { url: string; apiKey: string };
const target = {
  url: `${info.url}/v2/models/iris/infer`,
  headers: { authorization: `Bearer ${info.apiKey}`, "content-type": "application/json" },
  body: JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] }),
};
await runLoad(target, Number(values.concurrency), 5); // warm-up
child.send("profile-start");
await next();
const res = await runLoad(target, Number(values.concurrency), Number(values.seconds));
const file = join(mkdtempSync(join(tmpdir(), "modelgate-profile-")), "gateway.cpuprofile");
child.send({ profileStop: file });
await next();
child.send("stop");
console.log(`${res.throughput.toFixed(0)} req/s, p50 ${res.p50.toFixed(1)} ms (metering ${values.metering})`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
const { nodes } = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[] };
const where = (n: ProfileNode) =>
  `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/main\//, "")}:${n.callFrame.lineNumber + 1}`;
const self = new Map<string, number>();
let total = 0;
for (const n of nodes) {
  self.set(where(n), (self.get(where(n)) ?? 0) + n.hitCount);
  total += n.hitCount;
}
// Inclusive time by package (or our own file), to see which layer the time goes to.
const byId = new Map(nodes.map((n) => [n.id, n]));
const inclusive = new Map<string, number>();
const layer = (n: ProfileNode) => {
  const u = n.callFrame.url;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  return m?.[1] ?? (u.startsWith("node:") ? u : u.replace(/^file:\/\/.*?\/main\//, "") || n.callFrame.functionName);
};
const walk = (id: number, seen: Set<string>): number => {
  const n = byId.get(id) as ProfileNode;
  const l = layer(n);
  const fresh = !seen.has(l);
  const inner = new Set(seen).add(l);
  const sum = n.hitCount + (n.children ?? []).reduce((s, c) => s + walk(c, inner), 0);
  if (fresh) inclusive.set(l, (inclusive.get(l) ?? 0) + sum);
  return sum;
};
walk(nodes[0]?.id ?? 1, new Set());
const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
console.log("-- self time");
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${pct(v)}  ${k}`);
console.log("-- inclusive time by layer");
for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${pct(v)}  ${k}`);
console.log(`profile: ${file}`);
