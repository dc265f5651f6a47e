import type { UsageReader } from "../ports";
import type { Counts, QuotaLease } from "./cells";

const RECORD_PAGE = 500;
const DAY_MS = 86_400_000;

/**
 * What the requests admitted under lease `l` used, from the usage records that carry its id:
 * the only durable trace of an admission from a lease, since a record is written before each
 * response. Read once the lease is past its reclaim time, when no further record can appear.
 * A request admitted under the lease was received at most `settleMs` before the lease was
 * taken and no later than its end, so only the days and times in between are read.
 */
export async function usedUnderLease(
  reader: Pick<UsageReader, "records">,
  tenantId: string,
  l: QuotaLease,
  settleMs: number,
): Promise<Counts> {
  const from = l.fromMs - settleMs;
  const used: Counts = { requests: 0, tokens: 0 };
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day <= l.untilMs; day += DAY_MS) {
    let after: string | undefined;
    do {
      const page = await reader.records(tenantId, new Date(day).toISOString().slice(0, 10), {
        fromTime: new Date(Math.max(from, day)).toISOString(),
        toTime: new Date(Math.min(l.untilMs, day + DAY_MS - 1)).toISOString(),
        limit: RECORD_PAGE,
        after,
      });
      for (const r of page.items) {
        if (!r.leases?.includes(l.id)) continue;
        used.requests += 1;
        used.tokens += (r.tokens?.input ?? 0) + (r.tokens?.output ?? 0);
      }
      after = page.cursor;
    } while (after !== undefined);
  }
  return used;
}
