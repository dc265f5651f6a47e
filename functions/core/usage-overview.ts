import { BadRequestError } from "./errors";
import { formatAmount, sumAmounts } from "./money/amount";
import type { UsageReader } from "./ports";
import { addCounters, emptyCounters, periodOf, type UsageCounters } from "./usage";
import { MAX_HOURLY_RANGE_DAYS, type PricedCounters, parseBy, parseRange, pricedCounters } from "./usage-query";

/** How the operator's overview groups rows within a period. */
export const OVERVIEW_GROUPS = ["tenant", "model", "version"] as const;
export type OverviewGroup = (typeof OVERVIEW_GROUPS)[number];

export interface OverviewQuery {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly by?: string | undefined;
  readonly group?: string | undefined;
}

export const OVERVIEW_QUERY_PARAMS = ["from", "to", "by", "group"] as const satisfies readonly (keyof OverviewQuery)[];

export interface OverviewRow extends PricedCounters {
  readonly period: string;
  readonly tenantId?: string;
  readonly model?: string;
  readonly version?: number;
}

/** Every tenant's usage in one report (`GET /admin/usage`): the console's overview. */
export interface UsageOverview {
  readonly from: string;
  readonly to: string;
  readonly granularity: "day" | "hour";
  readonly group: OverviewGroup;
  readonly currency: string;
  /** Every record written before this time is counted (the least fresh tenant's asOf). */
  readonly asOf: string;
  readonly totals: PricedCounters;
  readonly rows: OverviewRow[];
}

/**
 * Sums the aggregates of `tenants` per period and group (tenant, model or version), with cost
 * as exact decimal strings and latency p50/p99 from the summed histograms. Reads each tenant's
 * aggregates as its own report does: never a record.
 */
export async function usageOverview(
  reader: UsageReader,
  tenants: readonly string[],
  q: OverviewQuery,
  o: { readonly now: number; readonly currency: string },
): Promise<UsageOverview> {
  const granularity = parseBy(q.by);
  const group = parseGroup(q.group);
  const range =
    granularity === "hour" ? parseRange(q, o.now, MAX_HOURLY_RANGE_DAYS, " with by=hour (400 with by=day)") : parseRange(q, o.now);
  const from = periodOf(range.from, granularity);
  const to = periodOf(range.to, granularity);
  const perTenant = await Promise.all(
    tenants.map(async (tenantId) => {
      const [rows, asOf] = await Promise.all([reader.aggregates(tenantId, granularity, from, to), reader.freshness(tenantId, o.now)]);
      return { tenantId, rows, asOf };
    }),
  );
  const merged = new Map<string, { dims: Omit<OverviewRow, keyof PricedCounters>; counters: UsageCounters }>();
  for (const { tenantId, rows } of perTenant) {
    for (const r of rows) {
      const dims =
        group === "tenant"
          ? { period: r.period, tenantId }
          : group === "model"
            ? { period: r.period, model: r.model }
            : { period: r.period, model: r.model, version: r.version };
      const key = JSON.stringify(dims);
      const entry = merged.get(key) ?? { dims, counters: emptyCounters() };
      addCounters(entry.counters, r);
      merged.set(key, entry);
    }
  }
  const entries = [...merged.values()].sort((a, b) => compare(a.dims, b.dims));
  const totals = entries.reduce((t, e) => addCounters(t, e.counters), emptyCounters());
  const asOf = perTenant.map((t) => t.asOf).sort()[0] ?? new Date(o.now).toISOString();
  return {
    from: range.from,
    to: range.to,
    granularity,
    group,
    currency: o.currency,
    asOf,
    // Cost totals added as integers: exact past 2^53 nano-units too.
    totals: { ...pricedCounters(totals), cost: formatAmount(sumAmounts(entries.map((e) => BigInt(e.counters.costNano)))) },
    rows: entries.map((e) => ({ ...e.dims, ...pricedCounters(e.counters) })),
  };
}

function parseGroup(group: string | undefined): OverviewGroup {
  if (group === undefined) return "tenant";
  if ((OVERVIEW_GROUPS as readonly string[]).includes(group)) return group as OverviewGroup;
  throw new BadRequestError(`'group' must be one of ${OVERVIEW_GROUPS.join(", ")}, got '${group}'`);
}

function compare(a: Omit<OverviewRow, keyof PricedCounters>, b: Omit<OverviewRow, keyof PricedCounters>): number {
  const keys = [a.period, a.tenantId ?? "", a.model ?? "", String(a.version ?? 0).padStart(5, "0")];
  const other = [b.period, b.tenantId ?? "", b.model ?? "", String(b.version ?? 0).padStart(5, "0")];
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] !== other[i]) return (keys[i] ?? "") < (other[i] ?? "") ? -1 : 1;
  }
  return 0;
}
