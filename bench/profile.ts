import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CAPACITY_CONFIG, forkChild } from "./fork-child";
import { runLoad } from "./load";
import { runPaced } from "./paced";
import { summarizeProfile } from "./profile-summary";

/**
 * `tsx bench/profile.ts [--metering off] [--seconds 15] [--concurrency 32 | --rate 200]`: loads
 * the gateway path of a platform child (closed loop, or open loop at a fixed rate) and takes a
 * V8 CPU profile of the child during the loaded window only; prints the functions with the most
 * self time, and keeps the .cpuprofile for Chrome DevTools.
 */
const { values } = parseArgs({
  options: {
    metering: { type: "string", default: "on" },
    seconds: { type: "string", default: "15" },
    concurrency: { type: "string", default: "32" },
    rate: { type: "string" },
    top: { type: "string", default: "40" },
  },
});
const { child, ready } = forkChild<{ url: string; apiKey: string }>("bench/platform-child.ts", {
  MODELGATE_CONFIG: CAPACITY_CONFIG,
  ...(values.metering === "off" ? { MODELGATE_BENCH_METERING: "off" } : {}),
});
const next = () =>
  new Promise<unknown>((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`platform exited (${code})`)));
  });
const info = await ready;
const target = {
  url: `${info.url}/v2/models/iris/infer`,
  headers: { authorization: `Bearer ${info.apiKey}`, "content-type": "application/json" },
  body: JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] }),
};
await runLoad(target, Number(values.concurrency), 5); // warm-up
child.send("profile-start");
await next();
const seconds = Number(values.seconds);
const res = values.rate
  ? await runPaced(target, Number(values.rate), seconds).then((r) => ({ throughput: r.sent / seconds, p50: r.p50 }))
  : await runLoad(target, Number(values.concurrency), seconds);
const file = join(mkdtempSync(join(tmpdir(), "modelgate-profile-")), "gateway.cpuprofile");
child.send({ profileStop: file });
await next();
child.send("stop");
console.log(`${res.throughput.toFixed(0)} req/s, p50 ${res.p50.toFixed(1)} ms (metering ${values.metering})`);

summarizeProfile(file, Number(values.top));
