import { forkChild } from "./fork-child";
import { median, type Target } from "./load";
import { childLoopStats, formatLoopStats, type LoopStats } from "./loop-stats";
import { type PacedResult, runPaced } from "./paced";
import { cpuDelta, stolenSeconds, treeCpu } from "./proc-cpu";

export interface PacedRound extends PacedResult {
  /** CPU of the serving process tree per request, ms, by command (node, java). */
  readonly cpuMsPerRequest: Record<string, number>;
  readonly stolenSeconds: number;
  /** The platform's event loop during the round (gateway rounds only). */
  readonly loop?: LoopStats;
}

/** The paths a paced run compares: the platform as `npm start` runs it, the same with each record written on the request's path (as in the cloud), and a bare server. */
export const PACED_PATHS = ["gateway", "no journal", "bare"] as const;
export type PacedPath = (typeof PACED_PATHS)[number];

export interface PacedCaseResult {
  readonly rate: number;
  readonly rounds: Record<PacedPath, PacedRound[]>;
  /** The metered platform with no traffic after the rounds: CPU ms per second, by command (node, java). */
  idleCpuMsPerSecond?: Record<string, number>;
}

/** Warm-up of each path before the rounds: the platform's code is compiled by then (its CPU per request falls by ~40% over the first 20 s of load). */
const WARM_UP_SECONDS = 10;
/** After the rounds: left alone this long (the last records ship, aggregate), then measured idle this long. */
const IDLE_SETTLE_SECONDS = 5;
const IDLE_SECONDS = 10;

/** CPU seconds of the serving processes (node, java), as milliseconds per one of `count` units (requests, seconds). */
function platformMsPer(used: Record<string, number>, count: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(used)
      .filter(([k]) => k === "node" || k === "java")
      .map(([k, v]) => [k, (v * 1000) / count]),
  );
}

const IRIS = JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] });

/**
 * The request path at a steady rate (open loop): iris through a metered platform (its own
 * process), through one that writes each usage record to the table before answering instead
 * of journaling it (MODELGATE_BENCH_JOURNAL=off), and a bare Node JSON server for reference,
 * in rounds that rotate the order; latency from each request's scheduled start, CPU per
 * request of each serving process tree (the platform's Node process and its DynamoDB Local JVM).
 */
export async function pacedCase(
  opts: { rate: number; seconds: number; rounds: number; profileFile?: string },
  log: (line: string) => void,
): Promise<PacedCaseResult> {
  // One platform after the other, so their JVMs do not warm up against each other.
  const platform = forkChild<{ url: string; apiKey: string }>("bench/platform-child.ts", {});
  const info = await platform.ready;
  const inPath = forkChild<{ url: string; apiKey: string }>("bench/platform-child.ts", { MODELGATE_BENCH_JOURNAL: "off" });
  const bare = forkChild<{ url: string }>("bench/bare-server.ts", {});
  const [inPathInfo, bareInfo] = [await inPath.ready, await bare.ready];
  const iris = (i: { url: string; apiKey: string }) => ({
    url: `${i.url}/v2/models/iris/infer`,
    headers: { authorization: `Bearer ${i.apiKey}`, "content-type": "application/json" },
    body: IRIS,
  });
  const targets: Record<PacedPath, Target> = {
    gateway: iris(info),
    "no journal": iris(inPathInfo),
    bare: { url: `${bareInfo.url}/`, headers: { "content-type": "application/json" }, body: IRIS },
  };
  const children = { gateway: platform.child, "no journal": inPath.child, bare: bare.child };
  const out: PacedCaseResult = { rate: opts.rate, rounds: { gateway: [], "no journal": [], bare: [] } };
  try {
    for (const name of PACED_PATHS) await runPaced(targets[name], opts.rate, WARM_UP_SECONDS);
    for (let r = 0; r < opts.rounds; r++) {
      // Each round starts with another path, so none always runs first (or last).
      const order = PACED_PATHS.map((_, i) => PACED_PATHS[(i + r) % PACED_PATHS.length] as PacedPath);
      for (const name of order) {
        const child = children[name];
        const platformChild = name === "bare" ? undefined : child;
        if (platformChild) await childLoopStats(platformChild);
        const before = treeCpu(child.pid ?? 0);
        const stolen = stolenSeconds();
        const res = await runPaced(targets[name], opts.rate, opts.seconds);
        const used = cpuDelta(before, treeCpu(child.pid ?? 0));
        const loop = platformChild ? await childLoopStats(platformChild) : undefined;
        const round: PacedRound = {
          ...res,
          stolenSeconds: stolenSeconds() - stolen,
          ...(loop ? { loop } : {}),
          cpuMsPerRequest: platformMsPer(used, Math.max(1, res.sent)),
        };
        out.rounds[name].push(round);
        log(
          `paced ${opts.rate}/s round ${r + 1} ${name.padEnd(10)}: p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, errors ${res.errors}, late ${res.late}, ` +
            `cpu ms/req ${Object.entries(round.cpuMsPerRequest)
              .map(([k, v]) => `${k} ${v.toFixed(2)}`)
              .join(", ")}, stolen ${round.stolenSeconds.toFixed(1)} s${loop ? `; platform ${formatLoopStats(loop)}` : ""}`,
        );
      }
    }
    // What the platform costs while nobody calls it: its pollers and timers.
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_SECONDS * 1000));
    const idleBefore = treeCpu(platform.child.pid ?? 0);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    out.idleCpuMsPerSecond = platformMsPer(cpuDelta(idleBefore, treeCpu(platform.child.pid ?? 0)), IDLE_SECONDS);
    log(
      `idle platform: ${Object.entries(out.idleCpuMsPerSecond)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(", ")} ms CPU per second`,
    );
    if (opts.profileFile) {
      // One more gateway window under a V8 CPU profile of the platform process.
      const next = () => new Promise<unknown>((resolve) => platform.child.once("message", resolve));
      platform.child.send("profile-start");
      await next();
      await runPaced(targets.gateway, opts.rate, opts.seconds);
      platform.child.send({ profileStop: opts.profileFile });
      await next();
    }
  } finally {
    platform.child.send("stop");
    inPath.child.send("stop");
    bare.child.kill();
  }
  return out;
}

export function summarizePaced(r: PacedCaseResult): string[] {
  const lines = [
    `| path (${r.rate} req/s, open loop) | p50 ms | p99 ms | node CPU ms/req | JVM CPU ms/req | total | errors | loop busy |`,
    "| --- | --: | --: | --: | --: | --: | --: | --: |",
  ];
  for (const name of PACED_PATHS) {
    const rounds = r.rounds[name];
    const node = median(rounds.map((x) => x.cpuMsPerRequest.node ?? 0));
    const java = median(rounds.map((x) => x.cpuMsPerRequest.java ?? 0));
    const total = median(rounds.map((x) => (x.cpuMsPerRequest.node ?? 0) + (x.cpuMsPerRequest.java ?? 0)));
    const loops = rounds.flatMap((x) => (x.loop ? [x.loop.busy] : []));
    const busy = loops.length > 0 ? `${(median(loops) * 100).toFixed(0)}%` : "";
    lines.push(
      `| ${name} | ${median(rounds.map((x) => x.p50)).toFixed(1)} | ${median(rounds.map((x) => x.p99)).toFixed(1)} | ${node.toFixed(2)} | ${java.toFixed(2)} | ${total.toFixed(2)} | ${rounds.reduce((n, x) => n + x.errors, 0)} | ${busy} |`,
    );
  }
  const idle = r.idleCpuMsPerSecond;
  if (idle)
    lines.push(
      `idle platform (${IDLE_SECONDS} s, no traffic): node ${(idle.node ?? 0).toFixed(1)}, JVM ${(idle.java ?? 0).toFixed(1)} ms CPU per second`,
    );
  return lines;
}

if (process.argv[1]?.endsWith("paced-case.ts")) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    options: {
      rate: { type: "string", default: "200" },
      seconds: { type: "string", default: "8" },
      rounds: { type: "string", default: "3" },
      profile: { type: "string" },
    },
  });
  const res = await pacedCase(
    {
      rate: Number(values.rate),
      seconds: Number(values.seconds),
      rounds: Number(values.rounds),
      ...(values.profile ? { profileFile: values.profile } : {}),
    },
    (l) => console.error(l),
  );
  console.log(summarizePaced(res).join("\n"));
  if (values.profile) (await import("./profile-summary")).summarizeProfile(values.profile, 60);
  process.exit(0);
}
