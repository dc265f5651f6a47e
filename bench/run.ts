import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { type CapacityTotals, capacityDelta, cloudUnits } from "./capacity-meter";
import { costPerMillion, INVOKE_MEMORY_MB, PRICES, streamCostLines } from "./cloud-cost";
import { CAPACITY_CONFIG, forkChild } from "./fork-child";
import { type LlmPathResult, llmBody, measureLlm } from "./llm";
import { type LoadResult, median, runLoad, type Target } from "./load";
import { cpuDelta, stolenSeconds, treeCpu } from "./proc-cpu";
import { SCALE_CASE_ARGS, scaleCaseOptions, scaleCases } from "./scale-cases";

/**
 * `npm run bench`: iris inference through the whole local gateway (authorizer, registry,
 * alias routing, SageMaker emulator, metering), through a second gateway with metering off
 * (MODELGATE_BENCH_METERING=off), through a third that writes each usage record on the request's
 * path instead of journaling it (MODELGATE_BENCH_JOURNAL=off), and straight to the model host,
 * alternating rounds in one run so all see the same machine; medians of the rounds and their ratios.
 */
const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "8" },
    concurrency: { type: "string", default: "32" },
    "llm-requests": { type: "string", default: "8" },
    "llm-max-tokens": { type: "string", default: "48" },
    "sequential-seconds": { type: "string", default: "4" },
    ...SCALE_CASE_ARGS,
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

interface ChildInfo {
  url: string;
  apiKey: string;
  /** A tenant with a monthly request quota (never reached). */
  quotaApiKey: string;
  modelHosts: Record<string, string>;
}

/** The write units the child's DynamoDB client has consumed so far. */
function capacityOf(child: ChildProcess): Promise<CapacityTotals> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (typeof m === "object" && m !== null && "capacity" in m) {
        child.off("message", on);
        resolve((m as { capacity: CapacityTotals }).capacity);
      }
    };
    child.on("message", on);
    child.send("capacity");
  });
}

/**
 * Waits until the tenant's aggregates are fresh as of `since` (its `GET /v1/usage` says
 * `asOf` >= since), so a round's write units include the aggregator's share of its records.
 * Returns the wait in ms; a platform without `asOf` returns at once.
 */
async function waitFresh(info: ChildInfo, apiKey: string, since: number): Promise<number> {
  const start = Date.now();
  // Polling costs reads and CPU of its own, which would be charged to the metered path: give
  // the aggregator (local batching window 500 ms, shards polled 4 times a second) time first.
  await new Promise((r) => setTimeout(r, 2000));
  for (;;) {
    const res = await fetch(`${info.url}/v1/usage`, { headers: { authorization: `Bearer ${apiKey}` } });
    const body = (await res.json()) as { asOf?: string };
    if (body.asOf === undefined || Date.parse(body.asOf) >= since) return Date.now() - start;
    if (Date.now() - start > 30_000) throw new Error(`aggregates not fresh after 30 s (asOf ${body.asOf})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A platform with the stage throttle lifted: the closed loop measures capacity, not the setting. */
const startChild = (env: NodeJS.ProcessEnv) =>
  forkChild<ChildInfo>("bench/platform-child.ts", { MODELGATE_CONFIG: CAPACITY_CONFIG, ...env });

// Two platforms, one metering and one not; started one after the other so their JVMs do not
// warm up against each other on a small machine. A child whose parent exits stops itself.
const metered = startChild({ MODELGATE_BENCH_QUOTA_TENANT: "on" });
const meteredInfo = await metered.ready;
const unmetered = startChild({ MODELGATE_BENCH_METERING: "off" });
const unmeteredInfo = await unmetered.ready;
// And one that writes each record to the table before answering (as the cloud does) instead of journaling it.
const inPath = startChild({ MODELGATE_BENCH_JOURNAL: "off" });
const inPathInfo = await inPath.ready;

const body = JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] });
const gateway = (info: ChildInfo): Target => ({
  url: `${info.url}/v2/models/iris/infer`,
  headers: { authorization: `Bearer ${info.apiKey}`, "content-type": "application/json" },
  body,
});
const PATHS = ["gateway", "quota", "no-meter", "no-journal", "direct"] as const;
type PathName = (typeof PATHS)[number];
/** The metered paths: their write units per request are read from DynamoDB's ConsumedCapacity. */
const METERED: Partial<Record<PathName, string>> = { gateway: meteredInfo.apiKey, quota: meteredInfo.quotaApiKey };
const targets: Record<PathName, Target> = {
  gateway: gateway(meteredInfo),
  quota: { ...gateway(meteredInfo), headers: { authorization: `Bearer ${meteredInfo.quotaApiKey}`, "content-type": "application/json" } },
  "no-meter": gateway(unmeteredInfo),
  "no-journal": gateway(inPathInfo),
  direct: { url: `${meteredInfo.modelHosts["iris/1"]}/invocations`, headers: { "content-type": "application/json" }, body },
};

// The platform process (and its JVM) that serves each path: CPU per request is read from it.
const servedBy: Record<PathName, number> = {
  gateway: metered.child.pid ?? 0,
  quota: metered.child.pid ?? 0,
  "no-meter": unmetered.child.pid ?? 0,
  "no-journal": inPath.child.pid ?? 0,
  direct: metered.child.pid ?? 0,
};
type Round = LoadResult & {
  readonly cpuMsPerRequest: { platform: number; dynamodb: number; loadgen: number };
  /** CPU seconds the hypervisor stole from the machine during the round's load. */
  readonly stolenSeconds: number;
  /** Metered paths: write units per request (DynamoDB's own figure, and with transactions at the cloud's 2x), and the wait for fresh aggregates. */
  readonly writeUnits?: { reported: number; cloud: number; calls: number; reads: number; freshWaitMs: number };
};
const results: Record<PathName, Round[]> = { gateway: [], quota: [], "no-meter": [], "no-journal": [], direct: [] };
const load: number[] = [loadavg()[0] ?? 0];
// Warm every path (JIT, connections, caches) before measuring.
for (const t of Object.values(targets)) await runLoad(t, concurrency, 2);
for (let r = 0; r < rounds; r++) {
  // Rotate the order each round, so no path always runs first (or right after another).
  const order = PATHS.map((_, i) => PATHS[(i + r) % PATHS.length] as PathName);
  for (const name of order) {
    const key = METERED[name];
    const units = key !== undefined ? await capacityOf(metered.child) : undefined;
    const before = treeCpu(servedBy[name]);
    const self = process.cpuUsage();
    const stolen = stolenSeconds();
    const load = await runLoad(targets[name], concurrency, seconds);
    const stolenSecondsInRound = stolenSeconds() - stolen;
    // Reads are the requests' own (limits, registry): counted before the wait, whose polls read too.
    const loaded = units ? await capacityOf(metered.child) : undefined;
    // The aggregator's work for this round's records belongs to this round: wait for it.
    const freshWaitMs = key !== undefined ? await waitFresh(meteredInfo, key, Date.now()) : 0;
    const used = cpuDelta(before, treeCpu(servedBy[name]));
    const own = process.cpuUsage(self);
    const perRequest = (s: number) => (s * 1000) / Math.max(1, load.requests);
    const spent =
      units && loaded ? { ...capacityDelta(units, await capacityOf(metered.child)), reads: capacityDelta(units, loaded).reads } : undefined;
    const per = (n: number) => n / Math.max(1, load.requests);
    const res: Round = {
      ...load,
      stolenSeconds: stolenSecondsInRound,
      cpuMsPerRequest: {
        platform: perRequest(used.node ?? 0),
        dynamodb: perRequest(used.java ?? 0),
        loadgen: perRequest((own.user + own.system) / 1e6),
      },
      ...(spent
        ? {
            writeUnits: {
              reported: per(spent.reported),
              cloud: per(cloudUnits(spent)),
              calls: per(spent.calls),
              reads: per(spent.reads),
              freshWaitMs,
            },
          }
        : {}),
    };
    results[name].push(res);
    const cpu = res.cpuMsPerRequest;
    console.error(
      `round ${r + 1} ${name.padEnd(8)}: ${res.throughput.toFixed(0)} req/s, p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, errors ${res.errors}, stolen ${res.stolenSeconds.toFixed(1)} s; ` +
        `cpu ms/req platform ${cpu.platform.toFixed(2)}, dynamodb ${cpu.dynamodb.toFixed(2)}, load generator ${cpu.loadgen.toFixed(2)}` +
        (res.writeUnits
          ? `; WRU/req ${res.writeUnits.reported.toFixed(3)} (cloud ${res.writeUnits.cloud.toFixed(3)}), write calls/req ${res.writeUnits.calls.toFixed(3)}, RRU/req ${res.writeUnits.reads.toFixed(3)}, fresh after ${res.writeUnits.freshWaitMs} ms`
          : ""),
    );
  }
  load.push(loadavg()[0] ?? 0);
}
// A Lambda instance serves one request at a time, so in the cloud every commit holds one
// record: write units per request measured one request at a time are what the cloud pays, and
// the latency over the direct path is the invoke function's billed time for metering and routing.
interface Sequential {
  requests: number;
  p50: number;
  reported: number;
  cloud: number;
  calls: number;
  reads: number;
}
const sequential: Partial<Record<PathName, Sequential>> = {};
for (const name of PATHS) {
  const key = METERED[name];
  const units = await capacityOf(metered.child);
  const load = await runLoad(targets[name], 1, Number(values["sequential-seconds"]));
  const loaded = await capacityOf(metered.child);
  if (key !== undefined) await waitFresh(meteredInfo, key, Date.now());
  const spent =
    key !== undefined ? { ...capacityDelta(units, await capacityOf(metered.child)), reads: capacityDelta(units, loaded).reads } : undefined;
  const per = (n: number) => n / Math.max(1, load.requests);
  sequential[name] = {
    requests: load.requests,
    p50: load.p50,
    reported: per(spent?.reported ?? 0),
    cloud: per(spent ? cloudUnits(spent) : 0),
    calls: per(spent?.calls ?? 0),
    reads: per(spent?.reads ?? 0),
  };
  console.error(
    `sequential ${name}: ${load.requests} requests, p50 ${load.p50.toFixed(2)} ms` +
      (spent
        ? `, WRU/req ${per(spent.reported).toFixed(3)} (cloud ${per(cloudUnits(spent)).toFixed(3)}), RRU/req ${per(spent.reads).toFixed(3)}`
        : ""),
  );
}
// The LLM case: streamed chat completions of tinylm through the metered gateway and straight to
// its model host's /invocations, alternating in the same rounds; one request at a time.
const llmDirect = meteredInfo.modelHosts["tinylm/1"];
const llm: Record<"gateway" | "direct", LlmPathResult[]> = { gateway: [], direct: [] };
if (llmDirect) {
  const llmRequests = Number(values["llm-requests"]);
  const body = llmBody(Number(values["llm-max-tokens"]));
  const llmTargets = {
    gateway: {
      url: `${meteredInfo.url}/v1/chat/completions`,
      headers: { authorization: `Bearer ${meteredInfo.apiKey}`, "content-type": "application/json" },
      body,
    },
    direct: { url: `${llmDirect}/invocations`, headers: { "content-type": "application/json" }, body },
  };
  await measureLlm(llmTargets.gateway, 2);
  await measureLlm(llmTargets.direct, 2);
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 ? (["direct", "gateway"] as const) : (["gateway", "direct"] as const)) {
      const res = await measureLlm(llmTargets[name], llmRequests);
      llm[name].push(res);
      console.error(
        `round ${r + 1} llm ${name.padEnd(8)}: ttft ${res.ttftMs.toFixed(1)} ms, total ${res.totalMs.toFixed(1)} ms, ${res.tokensPerSecond.toFixed(1)} tokens/s, errors ${res.errors}`,
      );
    }
    load.push(loadavg()[0] ?? 0);
  }
}
metered.child.send("stop");
unmetered.child.send("stop");
inPath.child.send("stop");

const summary = Object.fromEntries(
  PATHS.map((name) => {
    const rs = results[name];
    return [
      name,
      {
        throughput: median(rs.map((r) => r.throughput)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        errors: rs.reduce((s, r) => s + r.errors, 0),
        cpuMsPerRequest: {
          platform: median(rs.map((r) => r.cpuMsPerRequest.platform)),
          dynamodb: median(rs.map((r) => r.cpuMsPerRequest.dynamodb)),
          loadgen: median(rs.map((r) => r.cpuMsPerRequest.loadgen)),
        },
        ...(rs[0]?.writeUnits
          ? {
              writeUnits: {
                reported: median(rs.map((r) => r.writeUnits?.reported ?? 0)),
                cloud: median(rs.map((r) => r.writeUnits?.cloud ?? 0)),
                calls: median(rs.map((r) => r.writeUnits?.calls ?? 0)),
                reads: median(rs.map((r) => r.writeUnits?.reads ?? 0)),
                freshWaitMs: median(rs.map((r) => r.writeUnits?.freshWaitMs ?? 0)),
              },
            }
          : {}),
      },
    ];
  }),
) as Record<
  PathName,
  {
    throughput: number;
    p50: number;
    p99: number;
    errors: number;
    cpuMsPerRequest: Round["cpuMsPerRequest"];
    writeUnits?: Round["writeUnits"];
  }
>;
/**
 * The ratio of `a` to `b` in each round (the two ran back to back there, on the same machine),
 * then the median of those: a burst of the host's load slows the paths of one round, where the
 * ratio of two medians can pair a slowed round of one path with a clean one of the other.
 */
const pairedRatios = (a: PathName, b: PathName) => results[a].map((r, i) => r.throughput / (results[b][i]?.throughput ?? Number.NaN));
const onOffByRound = pairedRatios("gateway", "no-meter");
const quotaOffByRound = pairedRatios("quota", "no-meter");
const journalByRound = pairedRatios("gateway", "no-journal");
const ratios = {
  meteringOnOff: summary.gateway.throughput / summary["no-meter"].throughput,
  meteringOnOffPaired: median(onOffByRound),
  quotaOffPaired: median(quotaOffByRound),
  journalPaired: median(journalByRound),
  gatewayDirect: summary.gateway.throughput / summary.direct.throughput,
  noMeterDirect: summary["no-meter"].throughput / summary.direct.throughput,
  p50OnOff: summary.gateway.p50 / summary["no-meter"].p50,
  p50GatewayDirect: summary.gateway.p50 / summary.direct.p50,
};
const fmt = (n: number, d = 1) => n.toFixed(d).padStart(9);
const lines = [
  `iris /v2/models/iris/infer, ${concurrency} concurrent, ${rounds} rounds x ${seconds} s, medians; load avg ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}; ` +
    `${PATHS.reduce((s, p) => s + results[p].reduce((t, r) => t + r.stolenSeconds, 0), 0).toFixed(0)} CPU s stolen by the host during the loads`,
  "path         req/s    p50 ms    p99 ms   errors   cpu ms/req: platform  dynamodb  loadgen",
  ...PATHS.map((name) => {
    const { throughput, p50, p99, errors, cpuMsPerRequest: cpu } = summary[name];
    return `${name.padEnd(9)}${fmt(throughput, 0)} ${fmt(p50)} ${fmt(p99)} ${String(errors).padStart(8)}              ${fmt(cpu.platform, 2)} ${fmt(cpu.dynamodb, 2)} ${fmt(cpu.loadgen, 2)}`;
  }),
  `metering on/off:      throughput ${ratios.meteringOnOff.toFixed(2)}, p50 ${ratios.p50OnOff.toFixed(2)}x; ` +
    `by round ${onOffByRound.map((x) => x.toFixed(2)).join(" ")}, median ${ratios.meteringOnOffPaired.toFixed(2)}`,
  `gateway/direct:       throughput ${ratios.gatewayDirect.toFixed(2)}, p50 ${ratios.p50GatewayDirect.toFixed(2)}x`,
  `no-meter/direct:      throughput ${ratios.noMeterDirect.toFixed(2)}`,
  `journal/no-journal:   throughput by round ${journalByRound.map((x) => x.toFixed(2)).join(" ")}, median ${ratios.journalPaired.toFixed(2)}`,
  `quota/no-meter:       throughput ${(summary.quota.throughput / summary["no-meter"].throughput).toFixed(2)}, p50 ${(summary.quota.p50 / summary["no-meter"].p50).toFixed(2)}x; ` +
    `by round ${quotaOffByRound.map((x) => x.toFixed(2)).join(" ")}, median ${ratios.quotaOffPaired.toFixed(2)}`,
  "write units per metered request (DynamoDB's ConsumedCapacity, indexes included; cloud = transactions at 2 units per item-KB), with the aggregator's share; read units of the requests themselves:",
  ...(["gateway", "quota"] as const).map((name) => {
    const w = summary[name].writeUnits;
    return w
      ? `  ${name.padEnd(8)} ${w.reported.toFixed(3)} WRU reported, ${w.cloud.toFixed(3)} cloud, ${w.calls.toFixed(3)} write calls, ${w.reads.toFixed(3)} RRU; fresh ${w.freshWaitMs.toFixed(0)} ms after the round`
      : `  ${name}: no figures`;
  }),
  "one request at a time (a Lambda instance's shape: one record per commit):",
  ...(["gateway", "quota"] as const).map((name) => {
    const w = sequential[name];
    return w
      ? `  ${name.padEnd(8)} ${w.reported.toFixed(3)} WRU reported, ${w.cloud.toFixed(3)} cloud, ${w.calls.toFixed(3)} write calls, ${w.reads.toFixed(3)} RRU (${w.requests} requests)`
      : `  ${name}: no figures`;
  }),
  ...cloudCostLines(),
];

/** The cloud path's cost per million requests at this run's one-at-a-time figures. */
function cloudCostLines(): string[] {
  const direct = sequential.direct?.p50 ?? 0;
  const usd = (n: number) => `$${n.toFixed(2)}`.padStart(9);
  const rows = (["gateway", "quota", "no-meter"] as const).flatMap((name) => {
    const w = sequential[name];
    if (!w) return [];
    const lambdaMs = Math.max(0, w.p50 - direct);
    const c = costPerMillion({ lambdaMs, writeUnits: w.cloud, readUnits: w.reads });
    return [
      `  ${name.padEnd(8)} ${lambdaMs.toFixed(1).padStart(6)} ${w.cloud.toFixed(2).padStart(6)}${usd(c.apiGateway)}${usd(c.lambda)}${usd(c.dynamodb)}${usd(c.total)}`,
    ];
  });
  return [
    `cloud cost per million requests (${PRICES.region} list prices of ${PRICES.asOf}; invoke Lambda ${INVOKE_MEMORY_MB} MB arm64 billed for the one-at-a-time latency over direct; SageMaker left out):`,
    "  path     ms/req    WRU   API GW   Lambda DynamoDB    total",
    ...rows,
    ...streamCostLines(30),
  ];
}
const llmSummary = Object.fromEntries(
  (["gateway", "direct"] as const).map((name) => [
    name,
    {
      ttftMs: median(llm[name].map((r) => r.ttftMs)),
      totalMs: median(llm[name].map((r) => r.totalMs)),
      tokensPerSecond: median(llm[name].map((r) => r.tokensPerSecond)),
      errors: llm[name].reduce((n, r) => n + r.errors, 0),
    },
  ]),
) as Record<"gateway" | "direct", LlmPathResult>;
if (llm.gateway.length > 0) {
  lines.push(
    `tinylm streamed chat, ${values["llm-max-tokens"]} tokens, ${values["llm-requests"]} requests per round, one at a time, medians`,
    "path       ttft ms  total ms  tokens/s  errors",
    ...(["gateway", "direct"] as const).map((name) => {
      const r = llmSummary[name];
      return `${name.padEnd(9)}${fmt(r.ttftMs)} ${fmt(r.totalMs)} ${fmt(r.tokensPerSecond)} ${String(r.errors).padStart(7)}`;
    }),
    `llm gateway/direct:   ttft ${(llmSummary.gateway.ttftMs / llmSummary.direct.ttftMs).toFixed(2)}x, tokens/s ${(llmSummary.gateway.tokensPerSecond / llmSummary.direct.tokensPerSecond).toFixed(2)}`,
  );
}
// The request path at a steady rate, the raw route against a bare proxy, and the streaming relay at
// scale, on platforms of their own (the first three have stopped), in the same run.
const {
  paced,
  proxy,
  streams,
  lines: scaleLines,
} = await scaleCases(
  scaleCaseOptions(values),
  (l) => console.error(l),
  () => load.push(loadavg()[0] ?? 0),
);
lines.push(...scaleLines, `load avg over the run ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`);
console.log(lines.join("\n"));
mkdirSync("bench/results", { recursive: true });
writeFileSync(
  "bench/results/latest.json",
  `${JSON.stringify({ at: new Date().toISOString(), concurrency, rounds, seconds, load, summary, ratios, sequential, results, llm: llmSummary, paced, proxy, streams }, null, 2)}\n`,
);
