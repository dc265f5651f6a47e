import type { Page, RecordOutcome, UsageReader, UsageSink } from "../../../functions/core/ports";
import {
  addCounters,
  aggregateKeysOf,
  countersOf,
  emptyCounters,
  type Granularity,
  type UsageRecord,
  type UsageRow,
} from "../../../functions/core/usage";
import { recordPosition, recordPositionRange } from "../../../functions/core/usage-query";

const positionOf = (r: UsageRecord) => recordPosition(r.time, r.requestId);

/**
 * Usage records by request id (idempotent), with aggregates computed from them on read: the
 * same rows a store of counters would hold, one per period × model × version × key.
 */
export class MemoryUsageStore implements UsageSink, UsageReader {
  readonly stored = new Map<string, UsageRecord>();
  /** When set, every write rejects with it (a throttled table). */
  failWith: Error | undefined;

  async record(r: UsageRecord): Promise<RecordOutcome> {
    if (this.failWith) throw this.failWith;
    if (this.stored.has(r.requestId)) return "duplicate";
    this.stored.set(r.requestId, r);
    return "recorded";
  }

  async aggregates(tenantId: string, granularity: Granularity, fromPeriod: string, toPeriod: string): Promise<UsageRow[]> {
    const rows = new Map<string, UsageRow & { keyId: string }>();
    for (const r of this.stored.values()) {
      if (r.tenantId !== tenantId) continue;
      for (const k of aggregateKeysOf(r)) {
        if (k.granularity !== granularity || k.period < fromPeriod || k.period > toPeriod) continue;
        const id = JSON.stringify([k.period, k.model, k.version, k.keyId]);
        const row = rows.get(id) ?? { period: k.period, model: k.model, version: k.version, keyId: k.keyId, ...emptyCounters() };
        rows.set(id, addCounters(row, countersOf(r)));
      }
    }
    return [...rows.values()];
  }

  /** Aggregates are computed from the records on read: always fresh. */
  async freshness(_tenantId: string, now: number): Promise<string> {
    return new Date(now).toISOString();
  }

  async records(
    tenantId: string,
    day: string,
    q: { readonly fromTime: string; readonly toTime: string; readonly limit: number; readonly after?: string | undefined },
  ): Promise<Page<UsageRecord>> {
    const { contains } = recordPositionRange(q);
    const matching = [...this.stored.values()]
      .filter((r) => r.tenantId === tenantId && r.time.slice(0, 10) === day)
      .filter((r) => contains(positionOf(r)))
      .sort((a, b) => (positionOf(a) < positionOf(b) ? -1 : 1));
    const items = matching.slice(0, q.limit);
    const last = items.at(-1);
    return { items, ...(matching.length > q.limit && last ? { cursor: positionOf(last) } : {}) };
  }
}
