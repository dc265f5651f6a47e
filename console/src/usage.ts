/** Pure shapes and arithmetic of usage reports: no DOM here (the unit tests run it in Node). */

/** One line of a chart: a value per period (null where the group had none), with its exact text. */
export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** What the legend shows for each point: the API's own figure (a cost's exact decimal string). */
  readonly texts: readonly (string | null)[];
}

/** A period's start in epoch seconds (`2026-12-07` or `2026-12-07T14`, UTC). */
export const periodSeconds = (period: string) => Date.parse(period.length === 10 ? `${period}T00:00:00Z` : `${period}:00:00Z`) / 1000;

/** Counters of a usage report row or total, as the API sends them (cost a decimal string). */
export interface UsageFigures {
  readonly requests: number;
  readonly errors: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cost: string;
  /** From the aggregates' latency histogram buckets; null without billable requests. */
  readonly latencyP50Ms?: number | null;
  readonly latencyP99Ms?: number | null;
}

export interface UsageRow extends UsageFigures {
  readonly period: string;
  readonly tenantId?: string;
  readonly model?: string;
  readonly version?: number;
  readonly keyId?: string;
}

export interface UsageReport {
  readonly tenantId?: string;
  readonly from: string;
  readonly to: string;
  readonly granularity: "day" | "hour";
  readonly group: string;
  readonly currency: string;
  readonly asOf: string;
  readonly totals: UsageFigures;
  readonly rows: readonly UsageRow[];
}

export type Metric = "requests" | "tokens" | "cost" | "errors" | "latencyP50Ms" | "latencyP99Ms";

export const METRICS: ReadonlyArray<{ readonly id: Metric; readonly label: string }> = [
  { id: "requests", label: "Requests" },
  { id: "tokens", label: "Tokens (input + output)" },
  { id: "cost", label: "Cost" },
  { id: "errors", label: "Errors" },
  { id: "latencyP50Ms", label: "Latency p50 (ms)" },
  { id: "latencyP99Ms", label: "Latency p99 (ms)" },
];

/** A metric of a row: the number the chart plots and the text the legend and tables show. */
export function metricOf(f: UsageFigures, metric: Metric): { value: number | null; text: string | null } {
  switch (metric) {
    case "tokens": {
      const n = f.inputTokens + f.outputTokens;
      return { value: n, text: String(n) };
    }
    // The plotted height of a cost is a float; what is shown is the API's exact decimal string.
    case "cost":
      return { value: Number(f.cost), text: f.cost };
    case "latencyP50Ms":
    case "latencyP99Ms": {
      const v = f[metric];
      return v === null || v === undefined ? { value: null, text: null } : { value: v, text: String(v) };
    }
    default:
      return { value: f[metric], text: String(f[metric]) };
  }
}

/** What a row is grouped by, as one label: the tenant, the model, or `model v<version>`. */
export function groupLabel(row: UsageRow): string {
  if (row.tenantId !== undefined) return row.tenantId;
  if (row.model !== undefined && row.version !== undefined) return `${row.model} v${row.version}`;
  return row.model ?? row.keyId ?? "all";
}

/**
 * The chart's periods (every one that has a row, oldest first) and one series per group, with
 * null where a group had no row in a period.
 */
export function toSeries(rows: readonly UsageRow[], metric: Metric): { periods: string[]; series: ChartSeries[] } {
  const periods = [...new Set(rows.map((r) => r.period))].sort((a, b) => periodSeconds(a) - periodSeconds(b));
  const index = new Map(periods.map((p, i) => [p, i]));
  const byGroup = new Map<string, { values: (number | null)[]; texts: (string | null)[] }>();
  for (const row of rows) {
    const label = groupLabel(row);
    let s = byGroup.get(label);
    if (!s) {
      s = { values: periods.map(() => null), texts: periods.map(() => null) };
      byGroup.set(label, s);
    }
    const i = index.get(row.period) ?? 0;
    const m = metricOf(row, metric);
    s.values[i] = m.value;
    s.texts[i] = m.text;
  }
  const series = [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, s]) => ({ label, ...s }));
  return { periods, series };
}

/** The labels of the `n` groups with the most requests in `rows`, busiest first. */
export function busiestGroups(rows: readonly UsageRow[], n: number): string[] {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(groupLabel(r), (totals.get(groupLabel(r)) ?? 0) + r.requests);
  return [...totals.entries()]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, n)
    .map(([label]) => label);
}

/** Today and `days` before it, as the date inputs hold them (UTC). */
export function defaultRange(days: number, now = new Date()): { from: string; to: string } {
  const to = now.toISOString().slice(0, 10);
  const from = new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10);
  return { from, to };
}

/** The range a report covers, in epoch seconds, for the chart's x axis. */
export function rangeSeconds(report: Pick<UsageReport, "from" | "to">): [number, number] {
  return [Date.parse(report.from) / 1000, Date.parse(report.to) / 1000];
}
