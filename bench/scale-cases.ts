import { type PacedCaseResult, pacedCase, summarizePaced } from "./paced-case";
import { type ProxyCaseResult, proxyCase, summarizeProxy } from "./proxy-case";
import { type StreamCaseResult, type StreamStart, streamCase, summarizeStreams } from "./stream-relay";

export interface ScaleCaseOptions {
  readonly rounds: number;
  readonly pacedRate: number;
  readonly pacedSeconds: number;
  readonly streamConcurrency: readonly number[];
  readonly streamSeconds: number;
  readonly streamTokens: number;
  readonly streamIntervalMs: number;
  readonly streamStart: StreamStart;
  readonly proxySeconds: number;
  readonly proxyConcurrency: number;
}

/** The command-line options of the three cases (`npm run bench -- --paced-rate 100 …`). */
export const SCALE_CASE_ARGS = {
  "case-rounds": { type: "string", default: "3" },
  "paced-rate": { type: "string", default: "200" },
  "paced-seconds": { type: "string", default: "8" },
  "stream-concurrency": { type: "string", default: "4,200" },
  "stream-seconds": { type: "string", default: "6" },
  "stream-tokens": { type: "string", default: "64" },
  "stream-interval-ms": { type: "string", default: "20" },
  // spread: clients start across one stream's length (steady state); burst: all at once.
  "stream-start": { type: "string", default: "spread" },
  "proxy-seconds": { type: "string", default: "5" },
  "proxy-concurrency": { type: "string", default: "32" },
} as const;

export function scaleCaseOptions(v: { readonly [K in keyof typeof SCALE_CASE_ARGS]: string }): ScaleCaseOptions {
  return {
    rounds: Number(v["case-rounds"]),
    pacedRate: Number(v["paced-rate"]),
    pacedSeconds: Number(v["paced-seconds"]),
    streamConcurrency: v["stream-concurrency"].split(",").map(Number),
    streamSeconds: Number(v["stream-seconds"]),
    streamTokens: Number(v["stream-tokens"]),
    streamIntervalMs: Number(v["stream-interval-ms"]),
    streamStart: v["stream-start"] === "burst" ? "burst" : "spread",
    proxySeconds: Number(v["proxy-seconds"]),
    proxyConcurrency: Number(v["proxy-concurrency"]),
  };
}

/**
 * `npm run bench`'s last cases, each on platforms of its own: the request path at a steady rate
 * (bench/paced-case.ts), the raw route against a bare proxy on the same fake container
 * (bench/proxy-case.ts) and the streaming relay at scale (bench/stream-relay.ts); their tables,
 * and the CPU seconds the host stole during them.
 */
export async function scaleCases(
  o: ScaleCaseOptions,
  log: (line: string) => void,
  afterEach: () => void,
): Promise<{ paced: PacedCaseResult; proxy: ProxyCaseResult; streams: StreamCaseResult[]; lines: string[] }> {
  const paced = await pacedCase({ rate: o.pacedRate, seconds: o.pacedSeconds, rounds: o.rounds }, log);
  afterEach();
  const proxy = await proxyCase({ rounds: o.rounds, seconds: o.proxySeconds, concurrency: o.proxyConcurrency }, log);
  afterEach();
  const streams = await streamCase(
    {
      rounds: o.rounds,
      seconds: o.streamSeconds,
      concurrency: o.streamConcurrency,
      tokens: o.streamTokens,
      intervalMs: o.streamIntervalMs,
      start: o.streamStart,
    },
    log,
  );
  afterEach();
  const stolen = [
    ...Object.values(paced.rounds).flat(),
    ...Object.values(proxy.rounds).flat(),
    ...streams.flatMap((s) => [...s.direct, ...s.gateway]),
  ].reduce((n, r) => n + r.stolenSeconds, 0);
  return {
    paced,
    proxy,
    streams,
    lines: [
      `request path paced (open loop), ${o.rounds} rounds x ${o.pacedSeconds} s, medians:`,
      ...summarizePaced(paced),
      `raw route against a bare proxy (Portkey's gateway), the same fake engine, ${o.rounds} rounds x ${o.proxySeconds} s, medians:`,
      ...summarizeProxy(proxy),
      `streaming relay: a fake OpenAI engine, ${o.streamTokens} tokens ${o.streamIntervalMs} ms apart, ${o.rounds} rounds x ${o.streamSeconds} s, medians:`,
      ...summarizeStreams(streams),
      `${stolen.toFixed(1)} CPU s stolen during the paced, proxy and streaming cases`,
    ],
  };
}
