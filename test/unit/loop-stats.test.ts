import { describe, expect, it } from "@jest/globals";
import { formatLoopStats, watchLoop } from "../../bench/loop-stats";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // The loop can turn no timer while this runs: what a long batch of callbacks does to a server.
  }
}

describe("the benchmark's event-loop watch", () => {
  it("shows a stretch the loop could not turn as timer lateness and busy time, then starts a new window", async () => {
    const loop = watchLoop();
    try {
      loop.take();
      // A window's first tick only sets where the timer's intervals start from, and on a loaded
      // machine it has come only after a first stall: two stalls, a turn apart, so one is measured.
      await sleep(30);
      blockFor(150);
      await sleep(20);
      blockFor(150);
      await sleep(40);
      const stalled = loop.take();
      expect(stalled.delayMax).toBeGreaterThanOrEqual(120);
      expect(stalled.busy).toBeGreaterThan(0.5);
      expect(stalled.seconds).toBeGreaterThanOrEqual(0.3);
      expect(formatLoopStats(stalled)).toMatch(/^loop busy \d+%, timer late p50 [\d.]+ p99 [\d.]+ max \d+ ms, GC \d+ ms\/s/);

      await sleep(60);
      const quiet = loop.take();
      expect(quiet.delayMax).toBeLessThan(120);
      // Busy time, not share: on a loaded machine a short quiet window has read as 100% busy,
      // but it cannot hold the 150-ms stall of the window before it.
      expect(quiet.busy * quiet.seconds * 1000).toBeLessThan(150);
    } finally {
      loop.stop();
    }
  });

  it("counts the young-generation collections that short-lived garbage causes", async () => {
    const loop = watchLoop();
    try {
      loop.take();
      // Each object outlives its statement (the ring holds the last thousand), so none is optimized away.
      const ring: { i: number; pair: number[] }[] = new Array(1000);
      for (let i = 0; i < 1_000_000; i++) ring[i % 1000] = { i, pair: [i, i + 1] };
      expect(ring[999]?.i).toBe(999_999);
      // The observer hears of collections after the fact, on a later turn.
      await sleep(20);
      const stats = loop.take();
      expect(stats.minorGcs).toBeGreaterThan(0);
      expect(stats.minorGcMs).toBeGreaterThan(0);
      expect(stats.gcMaxMs).toBeGreaterThan(0);
    } finally {
      loop.stop();
    }
  });
});
