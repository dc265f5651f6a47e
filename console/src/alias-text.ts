/** An alias's target as the console writes and reads it: pure, no DOM (the unit tests run it in Node). */

export interface AliasTarget {
  readonly targets: ReadonlyArray<{ readonly version: number; readonly weight: number }>;
  readonly shadow?: { readonly version: number; readonly percent: number };
  readonly fallback?: number;
}

/** `2`, or `1:70, 2:30` for weights. */
export function targetsText(t: AliasTarget["targets"]): string {
  return t.length === 1 && t[0]?.weight === 100 ? String(t[0].version) : t.map((x) => `${x.version}:${x.weight}`).join(", ");
}

export function describeTarget(t: AliasTarget | null): string {
  if (!t) return "(created)";
  const parts = [`→ ${targetsText(t.targets)}`];
  if (t.shadow) parts.push(`shadow ${t.shadow.version} at ${t.shadow.percent}%`);
  if (t.fallback !== undefined) parts.push(`fallback ${t.fallback}`);
  return parts.join("; ");
}

/** Parses the move form's target: `2` or `1:70, 2:30`. */
export function parseTargets(text: string): number | Array<{ version: number; weight: number }> {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const parts = s.split(",").map((p) => /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(p));
  if (parts.length === 0 || parts.some((m) => !m)) throw new Error(`target: a version ("2") or weights ("1:70, 2:30"), got "${text}"`);
  return parts.map((m) => ({ version: Number(m?.[1]), weight: Number(m?.[2]) }));
}

export function parseShadow(text: string): { version: number; percent: number } | undefined {
  const s = text.trim();
  if (!s) return undefined;
  const m = /^(\d+)\s*:\s*(\d+)$/.exec(s);
  if (!m) throw new Error(`shadow: "version:percent" ("3:10"), got "${text}"`);
  return { version: Number(m[1]), percent: Number(m[2]) };
}
