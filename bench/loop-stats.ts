import type { ChildProcess } from "node:child_process";
import { type EventLoopUtilization, monitorEventLoopDelay, PerformanceObserver, performance } from "node:perf_hooks";

/** How a process's event loop fared over a window: what says why a busy server answers late. */
export interface LoopStats {
  /** The window's length, seconds. */
  readonly seconds: number;
  /** Share of the window the loop spent running callbacks rather than waiting for I/O (0..1). */
  readonly busy: number;
  /** How late a 10-ms timer fired, ms: p50, p99 and the worst (about the longest stretch the loop could not turn). */
  readonly delayP50: number;
  readonly delayP99: number;
  readonly delayMax: number;
  /** Garbage-collection pauses: young-generation (scavenges) and the rest (mark-compact), count and ms. */
  readonly minorGcs: number;
  readonly minorGcMs: number;
  readonly majorGcs: number;
  readonly majorGcMs: number;
  readonly gcMaxMs: number;
}

const TICK_MS = 10;
/** perf_hooks' kind of a young-generation collection (NODE_PERFORMANCE_GC_MINOR). */
const GC_MINOR = 1;

/**
 * Watches this process's event loop from now on; `take()` returns what happened since the last
 * take (or the start) and starts a new window. The delay timer ticks every 10 ms: a hundred
 * wake-ups a second, few beside a loaded server's own (a 1-ms tick would add ten times as many).
 */
export function watchLoop(): { take(): LoopStats; stop(): void } {
  const delay = monitorEventLoopDelay({ resolution: TICK_MS });
  delay.enable();
  let since: EventLoopUtilization = performance.eventLoopUtilization();
  let windowStart = performance.now();
  let gcs: { kind: number; ms: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    // A "gc" entry's detail says which collection ran (Node's PerformanceEntry type leaves it out).
    for (const e of list.getEntries()) gcs.push({ kind: (e as { detail?: { kind?: number } }).detail?.kind ?? 0, ms: e.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  // The histogram holds whole intervals between ticks: lateness is what exceeds the tick.
  const late = (ns: number) => Math.max(0, ns / 1e6 - TICK_MS);
  return {
    take() {
      const busy = performance.eventLoopUtilization(since).utilization;
      since = performance.eventLoopUtilization();
      const now = performance.now();
      const seconds = (now - windowStart) / 1000;
      windowStart = now;
      const minor = gcs.filter((g) => g.kind === GC_MINOR);
      const major = gcs.filter((g) => g.kind !== GC_MINOR);
      const sum = (xs: { ms: number }[]) => xs.reduce((n, g) => n + g.ms, 0);
      const stats: LoopStats = {
        seconds,
        busy,
        delayP50: late(delay.percentile(50)),
        delayP99: late(delay.percentile(99)),
        delayMax: late(delay.max),
        minorGcs: minor.length,
        minorGcMs: sum(minor),
        majorGcs: major.length,
        majorGcMs: sum(major),
        gcMaxMs: Math.max(0, ...gcs.map((g) => g.ms)),
      };
      // After a reset the histogram's first tick only marks where intervals start: a window
      // misses at most its first 10 ms.
      delay.reset();
      gcs = [];
      return stats;
    },
    stop() {
      delay.disable();
      observer.disconnect();
    },
  };
}

/** GC pause per second of the window, ms. */
export function gcMsPerSecond(s: LoopStats): number {
  return (s.minorGcMs + s.majorGcMs) / Math.max(s.seconds, 1e-9);
}

/** One line for a round's log: busy share, timer lateness, GC pauses per second of the window. */
export function formatLoopStats(s: LoopStats): string {
  const perSecond = (n: number) => (n / Math.max(s.seconds, 1e-9)).toFixed(0);
  return (
    `loop busy ${(s.busy * 100).toFixed(0)}%, timer late p50 ${s.delayP50.toFixed(1)} p99 ${s.delayP99.toFixed(1)} max ${s.delayMax.toFixed(0)} ms, ` +
    `GC ${gcMsPerSecond(s).toFixed(0)} ms/s (${perSecond(s.minorGcs)} scavenges/s, ${s.majorGcs} major), longest ${s.gcMaxMs.toFixed(1)} ms`
  );
}

/** Asks a bench child (bench/platform-child.ts) for its loop's window so far, and starts a new one. */
export function childLoopStats(child: ChildProcess): Promise<LoopStats> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      if (typeof m !== "object" || m === null || !("loopStats" in m)) return;
      child.off("message", onMessage);
      resolve(m.loopStats as LoopStats);
    };
    child.on("message", onMessage);
    child.send("loop-stats");
  });
}
