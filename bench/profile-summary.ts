import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

/** Prints a V8 .cpuprofile's functions with the most self time, and inclusive time by package. */
export function summarizeProfile(file: string, top = 40): void {
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
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
  console.log("-- inclusive time by layer");
  for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${pct(v)}  ${k}`);
  console.log(`profile: ${file}`);
}
