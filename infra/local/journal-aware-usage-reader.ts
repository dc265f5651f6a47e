import type { AdminDeps } from "../../functions/admin/deps";
import type { Page, UsageReader } from "../../functions/core/ports";
import type { Granularity, UsageRecord, UsageRow } from "../../functions/core/usage";

/** Where records wait before they reach the table (the local usage journal). */
export interface PendingRecords {
  /** The time of the tenant's earliest record not yet in the table, if any. */
  earliestPending(tenantId: string): string | undefined;
  /** Whether this process journaled the request's record (it is in the table, or will be). */
  journaled(requestId: string): boolean;
  /** Resolves once none of the tenant's records with a time in [fromTime, toTime] is pending (or a timeout passed). */
  shippedBetween(tenantId: string, fromTime: string, toTime: string): Promise<void>;
}

/**
 * The usage reader of a host that journals records before they reach the table, read as the
 * cloud's: a read of records waits for those of its range still in the journal (a request
 * answered is a record readable), and `asOf` stops before a tenant's earliest record still in
 * the journal, so "every record written before asOf is counted" holds for records recorded but
 * not yet shipped. The journal is read before the table: a record shipped in between is then in
 * the table when the table is read.
 */
export class JournalAwareUsageReader implements UsageReader {
  constructor(
    private readonly table: UsageReader,
    private readonly journal: PendingRecords,
  ) {}

  aggregates(tenantId: string, granularity: Granularity, fromPeriod: string, toPeriod: string): Promise<UsageRow[]> {
    return this.table.aggregates(tenantId, granularity, fromPeriod, toPeriod);
  }

  async records(tenantId: string, day: string, q: Parameters<UsageReader["records"]>[2]): Promise<Page<UsageRecord>> {
    await this.journal.shippedBetween(tenantId, q.fromTime, q.toTime);
    return this.table.records(tenantId, day, q);
  }

  async freshness(tenantId: string, now: number): Promise<string> {
    const pending = this.journal.earliestPending(tenantId);
    const asOf = await this.table.freshness(tenantId, now);
    return pending !== undefined && pending < asOf ? pending : asOf;
  }
}

/**
 * The admin function beside a usage journal: its usage reads wait for the journal's records,
 * and reconciliation never repairs a record this process journaled (the last 10,000): the
 * journal will store it (after a crash, the next start ships what was left before it serves),
 * and a repair written beside a record that ships in a pack of several would count it twice.
 */
export function journalAwareAdmin(deps: AdminDeps, journal: PendingRecords): AdminDeps {
  const repairs = deps.reconciliation.usage;
  const usage = new JournalAwareUsageReader(deps.usage, journal);
  return {
    ...deps,
    usage,
    reconciliation: {
      ...deps.reconciliation,
      records: usage,
      usage: { record: (r) => (journal.journaled(r.requestId) ? Promise.resolve("duplicate") : repairs.record(r)) },
    },
  };
}
