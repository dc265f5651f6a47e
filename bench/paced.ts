import { Agent } from "node:http";
import { postOnce, type Target } from "./load";

export interface PacedResult {
  readonly sent: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  /** Requests still unanswered when the window closed (the target fell behind the rate). */
  readonly late: number;
}

/**
 * Open-loop load: requests start on a fixed schedule (`rate` a second for `seconds`) whether or
 * not earlier ones have been answered, as independent clients arrive; latency is measured from
 * each request's scheduled start, so a target that falls behind shows it (no coordinated
 * omission). Waits up to 10 s after the last start for the answers.
 */
export async function runPaced(target: Target, rate: number, seconds: number): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const url = new URL(target.url);
  const body = Buffer.from(target.body);
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const inFlight = new Set<Promise<void>>();
  const one = (due: number) => {
    const p = postOnce(agent, url, target.headers, body).then((status) => {
      latencies.push(performance.now() - due);
      if (status !== 200) errors++;
    });
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  };
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    // Every request whose time has come, each timed from its own scheduled start.
    while (sent < total && start + (sent * 1000) / rate <= now) {
      one(start + (sent * 1000) / rate);
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const late = await Promise.race([
    Promise.all(inFlight).then(() => 0),
    new Promise<number>((r) => setTimeout(() => r(inFlight.size), 10_000)),
  ]);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return { sent, errors, p50: pct(50), p99: pct(99), late };
}
