import { Agent, request } from "node:http";
import { forkChild } from "./fork-child";
import { median } from "./load";
import { childLoopStats, formatLoopStats, gcMsPerSecond, type LoopStats } from "./loop-stats";
import { cpuDelta, stolenSeconds, treeCpu } from "./proc-cpu";

/** One path of the streaming case: where streams go and how they are asked for. */
export interface StreamTarget {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface StreamRound {
  readonly streams: number;
  readonly errors: number;
  /** Content chunks the clients received, per second of the round. */
  readonly chunksPerSecond: number;
  readonly ttftP50: number;
  readonly ttftP99: number;
  /** CPU of the serving process tree (node, java) per content chunk, µs. */
  readonly cpuUsPerChunk: Record<string, number>;
  readonly stolenSeconds: number;
  /** Completion tokens the usage chunks reported, summed. */
  readonly usageTokens: number;
  readonly chunks: number;
  /** The serving process's event loop in the window, when it was asked for. */
  readonly loop?: LoopStats;
}

/**
 * `concurrency` clients, each opening one streamed completion after another (closed loop);
 * counts the content chunks they receive, the time to the first one, and the CPU the serving
 * process tree spent meanwhile. Client i starts `i * spreadMs / concurrency` ms in; the
 * measured window opens once every client is streaming and lasts `seconds`, after which each
 * client finishes the stream it is in. Streams of one length started together also end and
 * restart together, for as long as the round lasts: `spreadMs` 0 measures that herd, one
 * stream's length spreads the streams' phases as independent users' are. Every stream counts
 * for usage (`streams`, `usageTokens`); chunks, TTFT (of streams asked for in it) and CPU
 * count within the window.
 */
export async function runStreams(
  target: StreamTarget,
  concurrency: number,
  seconds: number,
  servedBy: number,
  spreadMs = 0,
  /** Ends the serving process's current loop window and starts the next (bench/loop-stats.ts). */
  serverLoop?: () => Promise<LoopStats>,
): Promise<StreamRound> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(target.url);
  const body = Buffer.from(target.body);
  const ttfts: number[] = [];
  let chunks = 0;
  let errors = 0;
  let streams = 0;
  let usageTokens = 0;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      // Only streams asked for within the window count for TTFT.
      let first = t0 >= windowStart && t0 < windowEnd;
      let rest = "";
      const req = request(
        {
          agent,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: { ...target.headers, "content-length": body.length },
        },
        (res) => {
          if (res.statusCode !== 200) {
            errors++;
            res.resume();
            res.on("end", resolve);
            return;
          }
          res.setEncoding("utf8");
          res.on("data", (text: string) => {
            const at = performance.now();
            const counted = at >= windowStart && at < windowEnd;
            const lines = (rest + text).split("\n");
            rest = lines.pop() ?? "";
            for (const line of lines) {
              if (!line.startsWith("data: {")) continue;
              if (line.includes('"content"')) {
                if (first) {
                  ttfts.push(performance.now() - t0);
                  first = false;
                }
                if (counted) chunks++;
              } else if (line.includes('"usage"')) {
                usageTokens += (JSON.parse(line.slice(6)) as { usage: { completion_tokens: number } }).usage.completion_tokens;
              }
            }
          });
          res.on("end", () => {
            streams++;
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let before: Record<string, number> = {};
  let used: Record<string, number> = {};
  let stolen = 0;
  let loop: LoopStats | undefined;
  const openWindow = async () => {
    await serverLoop?.();
    windowStart = performance.now();
    windowEnd = windowStart + seconds * 1000;
    before = treeCpu(servedBy);
    stolen = stolenSeconds();
  };
  // A herd is measured from its first request: the window opens before any client starts.
  if (spreadMs === 0) await openWindow();
  const end = spreadMs === 0 ? windowEnd : performance.now() + spreadMs + seconds * 1000;
  const measured = (async () => {
    if (spreadMs > 0) {
      await sleep(spreadMs);
      await openWindow();
    }
    await sleep(windowEnd - performance.now());
    used = cpuDelta(before, treeCpu(servedBy));
    stolen = stolenSeconds() - stolen;
    loop = await serverLoop?.();
  })();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      if (spreadMs > 0) await sleep((i * spreadMs) / concurrency);
      while (performance.now() < end) await one();
    }),
  );
  await measured;
  const elapsed = (windowEnd - windowStart) / 1000;
  agent.destroy();
  ttfts.sort((a, b) => a - b);
  const pct = (p: number) => ttfts[Math.min(ttfts.length - 1, Math.floor((p / 100) * ttfts.length))] ?? Number.NaN;
  return {
    streams,
    errors,
    chunksPerSecond: chunks / elapsed,
    ttftP50: pct(50),
    ttftP99: pct(99),
    cpuUsPerChunk: Object.fromEntries(Object.entries(used).map(([k, v]) => [k, (v * 1e6) / Math.max(1, chunks)])),
    stolenSeconds: stolen,
    usageTokens,
    chunks,
    ...(loop ? { loop } : {}),
  };
}

export interface StreamCaseOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly concurrency: readonly number[];
  readonly tokens: number;
  readonly intervalMs: number;
  /**
   * `spread`: clients start one after another across one stream's length (steady state, as
   * independent users); `burst`: all at once, every round (see runStreams).
   */
  readonly start: StreamStart;
  /** A V8 CPU profile of the platform during one more gateway round at the last concurrency, written here. */
  readonly profileFile?: string;
}

export type StreamStart = "spread" | "burst";

export interface StreamCaseResult {
  readonly concurrency: number;
  readonly start: StreamStart;
  readonly direct: StreamRound[];
  readonly gateway: StreamRound[];
  /** Usage the platform recorded for the gateway's streams against what the clients received. */
  readonly exact: { readonly streams: number; readonly requests: number; readonly outputTokens: number; readonly expectedTokens: number };
}

/**
 * The streaming relay at scale: a fake OpenAI engine (bench/fake-engine.ts, its own process)
 * pacing `tokens` tokens `intervalMs` apart, reached directly and through a metered platform
 * (its own process, bench/stream.config.ts) whose `fake-llm` version is that engine; rounds
 * alternate direct and gateway at each concurrency.
 */
export async function streamCase(opts: StreamCaseOptions, log: (line: string) => void): Promise<StreamCaseResult[]> {
  const engine = forkChild<{ url: string }>("bench/fake-engine.ts", { FAKE_ENGINE_INTERVAL_MS: String(opts.intervalMs) });
  const engineUrl = (await engine.ready).url;
  const platform = forkChild<{ url: string; apiKey: string }>("bench/platform-child.ts", {
    MODELGATE_CONFIG: "bench/stream.config.ts",
    MODELGATE_BENCH_ENGINE_URL: engineUrl,
  });
  const info = await platform.ready;
  const chat = (model: string) =>
    JSON.stringify({
      model,
      messages: [{ role: "user", content: "Tell me a story" }],
      max_tokens: opts.tokens,
      stream: true,
      stream_options: { include_usage: true },
    });
  const targets = {
    direct: { url: `${engineUrl}/v1/chat/completions`, headers: { "content-type": "application/json" }, body: chat("fake-engine") },
    gateway: {
      url: `${info.url}/v1/chat/completions`,
      headers: { "content-type": "application/json", authorization: `Bearer ${info.apiKey}` },
      body: chat("fake-llm"),
    },
  };
  const servedBy = { direct: engine.child.pid ?? 0, gateway: platform.child.pid ?? 0 };
  const results: StreamCaseResult[] = [];
  try {
    // Warm both paths (JIT, connections, the component's first load) at the highest
    // concurrency for a round's length: the platform's first rounds of 200 streams ran ~20%
    // below its later ones (7,100 → 8,800 chunks/s), which measured its warm-up, not its relay.
    const warmAt = Math.max(...opts.concurrency);
    const spreadMs = opts.start === "spread" ? opts.tokens * opts.intervalMs : 0;
    const serverLoop = { direct: undefined, gateway: () => childLoopStats(platform.child) };
    await runStreams(targets.gateway, warmAt, opts.seconds, servedBy.gateway, spreadMs);
    await runStreams(targets.direct, warmAt, opts.seconds, servedBy.direct, spreadMs);
    for (const concurrency of opts.concurrency) {
      const before = await usageOf(info);
      const direct: StreamRound[] = [];
      const gateway: StreamRound[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        for (const name of r % 2 ? (["gateway", "direct"] as const) : (["direct", "gateway"] as const)) {
          const round = await runStreams(targets[name], concurrency, opts.seconds, servedBy[name], spreadMs, serverLoop[name]);
          (name === "direct" ? direct : gateway).push(round);
          log(
            `streams ${concurrency} (${opts.start}) round ${r + 1} ${name.padEnd(7)}: ${round.chunksPerSecond.toFixed(0)} chunks/s, TTFT p50 ${round.ttftP50.toFixed(1)} ms p99 ${round.ttftP99.toFixed(1)} ms, ` +
              `${round.streams} streams, errors ${round.errors}, cpu µs/chunk ${Object.entries(round.cpuUsPerChunk)
                .map(([k, v]) => `${k} ${v.toFixed(0)}`)
                .join(", ")}, stolen ${round.stolenSeconds.toFixed(1)} s${round.loop ? `; platform ${formatLoopStats(round.loop)}` : ""}`,
          );
        }
      }
      const streams = gateway.reduce((n, g) => n + g.streams, 0);
      const after = await waitForUsage(info, before.requests + streams);
      results.push({
        concurrency,
        start: opts.start,
        direct,
        gateway,
        exact: {
          streams,
          requests: after.requests - before.requests,
          outputTokens: after.outputTokens - before.outputTokens,
          expectedTokens: gateway.reduce((n, g) => n + g.usageTokens, 0),
        },
      });
    }
    if (opts.profileFile) {
      const next = () => new Promise<unknown>((resolve) => platform.child.once("message", resolve));
      platform.child.send("profile-start");
      await next();
      await runStreams(targets.gateway, opts.concurrency.at(-1) ?? 1, opts.seconds, servedBy.gateway, spreadMs);
      platform.child.send({ profileStop: opts.profileFile });
      await next();
    }
  } finally {
    platform.child.send("stop");
    engine.child.kill();
  }
  return results;
}

interface UsageTotals {
  readonly requests: number;
  readonly outputTokens: number;
}

async function usageOf(info: { url: string; apiKey: string }): Promise<UsageTotals> {
  const res = await fetch(`${info.url}/v1/usage?model=fake-llm`, { headers: { authorization: `Bearer ${info.apiKey}` } });
  const body = (await res.json()) as { totals?: { requests?: number; outputTokens?: number } };
  return { requests: body.totals?.requests ?? 0, outputTokens: body.totals?.outputTokens ?? 0 };
}

/** The tenant's aggregates once they count `requests` requests (the aggregator runs behind). */
async function waitForUsage(info: { url: string; apiKey: string }, requests: number): Promise<UsageTotals> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const now = await usageOf(info);
    if (now.requests >= requests || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function summarizeStreams(results: readonly StreamCaseResult[]): string[] {
  const lines = [
    "| streams | path | chunks/s | TTFT p50 ms | TTFT p99 ms | platform CPU µs/chunk (node + java) | platform loop busy, GC ms/s | usage exact |",
    "| --: | --- | --: | --: | --: | --: | --: | --- |",
  ];
  for (const r of results) {
    for (const name of ["direct", "gateway"] as const) {
      const rounds = r[name];
      const cpu = median(rounds.map((x) => Object.values(x.cpuUsPerChunk).reduce((a, b) => a + b, 0)));
      const loops = rounds.flatMap((x) => (x.loop ? [x.loop] : []));
      const loop =
        loops.length > 0 ? `${(median(loops.map((l) => l.busy)) * 100).toFixed(0)}%, ${median(loops.map(gcMsPerSecond)).toFixed(0)}` : "";
      lines.push(
        `| ${r.concurrency} (${r.start}) | ${name} | ${median(rounds.map((x) => x.chunksPerSecond)).toFixed(0)} | ${median(rounds.map((x) => x.ttftP50)).toFixed(1)} | ${median(rounds.map((x) => x.ttftP99)).toFixed(1)} | ${cpu.toFixed(0)} | ${loop} | ${
          name === "gateway"
            ? `${r.exact.requests}/${r.exact.streams} records, ${r.exact.outputTokens}/${r.exact.expectedTokens} tokens`
            : ""
        } |`,
      );
    }
  }
  return lines;
}

if (process.argv[1]?.endsWith("stream-relay.ts")) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      seconds: { type: "string", default: "6" },
      concurrency: { type: "string", default: "4,200" },
      tokens: { type: "string", default: "64" },
      "interval-ms": { type: "string", default: "20" },
      // spread (steady state) or burst (every client at once): see runStreams.
      start: { type: "string", default: "spread" },
      profile: { type: "string" },
    },
  });
  const results = await streamCase(
    {
      rounds: Number(values.rounds),
      seconds: Number(values.seconds),
      concurrency: String(values.concurrency).split(",").map(Number),
      tokens: Number(values.tokens),
      start: values.start === "burst" ? "burst" : "spread",
      intervalMs: Number(values["interval-ms"]),
      ...(values.profile ? { profileFile: values.profile } : {}),
    },
    (line) => console.error(line),
  );
  console.log(summarizeStreams(results).join("\n"));
  if (values.profile) (await import("./profile-summary")).summarizeProfile(values.profile, 45);
  process.exit(0);
}
