import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { freePort } from "../infra/local/services/free-port";
import { forkChild } from "./fork-child";
import { type LoadResult, median, runLoad, type Target } from "./load";
import { cpuDelta, stolenSeconds, treeCpu } from "./proc-cpu";

export interface ProxyRound extends LoadResult {
  /** CPU of the serving process tree per request, ms (node, and the platform's DynamoDB Local JVM). */
  readonly cpuMsPerRequest: number;
  readonly stolenSeconds: number;
}

export type ProxyPath = "gateway" | "portkey" | "direct";

export interface ProxyCaseResult {
  readonly concurrency: number;
  readonly rounds: Record<ProxyPath, ProxyRound[]>;
}

const CHAT = JSON.stringify({ model: "fake-llm", messages: [{ role: "user", content: "Hello" }], max_tokens: 8 });

/** Portkey's open-source AI gateway (the npm package's own start script), loopback only. */
async function startPortkey(): Promise<{ url: string; child: ChildProcess }> {
  const pkg = dirname(createRequire(import.meta.url).resolve("@portkey-ai/gateway/package.json"));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      "--import",
      new URL("./loopback-listen.mjs", import.meta.url).pathname,
      join(pkg, "build", "start-server.js"),
      `--port=${port}`,
      "--headless",
    ],
    { stdio: "ignore", env: { ...process.env, NODE_ENV: "production" } },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Portkey's gateway exited (${child.exitCode})`);
    const up = await fetch(url).then(
      () => true,
      () => false,
    );
    if (up) return { url, child };
    if (Date.now() > deadline) throw new Error("Portkey's gateway did not answer within 30 s");
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * modelgate against a bare proxy on the same fake container: a fake OpenAI engine
 * (bench/fake-engine.ts, answering at once) reached through the platform's raw route
 * (`POST /v1/models/fake-llm/invoke`: API key, routing, metering), through Portkey's open-source
 * gateway (`@portkey-ai/gateway`, a proxy that neither authenticates, routes by registry nor
 * meters: the floor of a proxy hop), and directly; closed loop, the three paths alternating in
 * each round. CPU per request of each serving process tree (the platform's counts its DynamoDB
 * Local JVM).
 */
export async function proxyCase(
  opts: { rounds: number; seconds: number; concurrency: number },
  log: (line: string) => void,
): Promise<ProxyCaseResult> {
  const engine = forkChild<{ url: string }>("bench/fake-engine.ts", { FAKE_ENGINE_INTERVAL_MS: "0" });
  const engineUrl = (await engine.ready).url;
  const platform = forkChild<{ url: string; apiKey: string }>("bench/platform-child.ts", {
    MODELGATE_CONFIG: "bench/stream.config.ts",
    MODELGATE_BENCH_ENGINE_URL: engineUrl,
  });
  const portkey = await startPortkey().catch((err: unknown) => {
    platform.child.send("stop");
    engine.child.kill();
    throw err;
  });
  try {
    const info = await platform.ready;
    const json = { "content-type": "application/json" };
    const targets: Record<ProxyPath, Target> = {
      gateway: { url: `${info.url}/v1/models/fake-llm/invoke`, headers: { ...json, authorization: `Bearer ${info.apiKey}` }, body: CHAT },
      portkey: {
        url: `${portkey.url}/v1/chat/completions`,
        headers: { ...json, authorization: "Bearer unused", "x-portkey-provider": "openai", "x-portkey-custom-host": `${engineUrl}/v1` },
        body: CHAT,
      },
      direct: { url: `${engineUrl}/v1/chat/completions`, headers: json, body: CHAT },
    };
    const servedBy: Record<ProxyPath, number> = {
      gateway: platform.child.pid ?? 0,
      portkey: portkey.child.pid ?? 0,
      direct: engine.child.pid ?? 0,
    };
    const paths: ProxyPath[] = ["gateway", "portkey", "direct"];
    for (const name of paths) await runLoad(targets[name], opts.concurrency, 2);
    const rounds: Record<ProxyPath, ProxyRound[]> = { gateway: [], portkey: [], direct: [] };
    for (let r = 0; r < opts.rounds; r++) {
      for (const name of [...paths.slice(r % 3), ...paths.slice(0, r % 3)]) {
        const before = treeCpu(servedBy[name]);
        const stolen = stolenSeconds();
        const load = await runLoad(targets[name], opts.concurrency, opts.seconds);
        const used = cpuDelta(before, treeCpu(servedBy[name]));
        const cpu = ((used.node ?? 0) + (used.java ?? 0)) * 1000;
        const round: ProxyRound = { ...load, cpuMsPerRequest: cpu / Math.max(1, load.requests), stolenSeconds: stolenSeconds() - stolen };
        rounds[name].push(round);
        log(
          `proxy round ${r + 1} ${name.padEnd(7)}: ${load.throughput.toFixed(0)} req/s, p50 ${load.p50.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms, ` +
            `errors ${load.errors}, cpu ms/req ${round.cpuMsPerRequest.toFixed(2)}, stolen ${round.stolenSeconds.toFixed(1)} s`,
        );
      }
    }
    return { concurrency: opts.concurrency, rounds };
  } finally {
    platform.child.send("stop");
    portkey.child.kill();
    engine.child.kill();
  }
}

export function summarizeProxy(r: ProxyCaseResult): string[] {
  const lines = [
    `| path (${r.concurrency} concurrent, closed loop) | req/s | p50 ms | p99 ms | CPU ms/req | errors |`,
    "| --- | --: | --: | --: | --: | --: |",
  ];
  for (const name of ["gateway", "portkey", "direct"] as const) {
    const rounds = r.rounds[name];
    lines.push(
      `| ${name} | ${median(rounds.map((x) => x.throughput)).toFixed(0)} | ${median(rounds.map((x) => x.p50)).toFixed(1)} | ${median(rounds.map((x) => x.p99)).toFixed(1)} | ${median(rounds.map((x) => x.cpuMsPerRequest)).toFixed(2)} | ${rounds.reduce((n, x) => n + x.errors, 0)} |`,
    );
  }
  const ratios = r.rounds.gateway.map((g, i) => g.throughput / (r.rounds.portkey[i]?.throughput ?? Number.NaN));
  lines.push(`gateway/portkey throughput by round: ${ratios.map((x) => x.toFixed(2)).join(", ")} (median ${median(ratios).toFixed(2)})`);
  return lines;
}

if (process.argv[1]?.endsWith("proxy-case.ts")) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      seconds: { type: "string", default: "5" },
      concurrency: { type: "string", default: "32" },
    },
  });
  const res = await proxyCase(
    { rounds: Number(values.rounds), seconds: Number(values.seconds), concurrency: Number(values.concurrency) },
    (l) => console.error(l),
  );
  console.log(summarizeProxy(res).join("\n"));
}
