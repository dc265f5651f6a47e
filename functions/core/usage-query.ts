import { BadRequestError } from "./errors";
import type { UsageReader } from "./ports";
import { type Granularity, periodOf, summarize, type UsageReport } from "./usage";

export interface UsageQuery {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly model?: string | undefined;
  readonly by?: string | undefined;
}

const MAX_RANGE_DAYS = 400;

function parseTime(value: string, field: string): number {
  // A bare date means that whole day in UTC.
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(t)) throw new BadRequestError(`'${field}' must be an ISO-8601 date or time, got '${value}'`);
  return t;
}

/** Validates a usage query (default: the current month to date) and reads the report. */
export async function usageReport(reader: UsageReader, tenantId: string, q: UsageQuery, now = Date.now()): Promise<UsageReport> {
  const granularity: Granularity = q.by === undefined || q.by === "day" ? "day" : q.by === "hour" ? "hour" : badBy(q.by);
  const nowIso = new Date(now).toISOString();
  const from = q.from !== undefined ? parseTime(q.from, "from") : Date.parse(`${nowIso.slice(0, 7)}-01T00:00:00Z`);
  const to = q.to !== undefined ? parseTime(q.to, "to") : now;
  if (from > to) throw new BadRequestError("'from' must not be after 'to'");
  if (to - from > MAX_RANGE_DAYS * 86_400_000) throw new BadRequestError(`the range may span at most ${MAX_RANGE_DAYS} days`);
  const fromPeriod = periodOf(new Date(from).toISOString(), granularity);
  const toPeriod = periodOf(new Date(to).toISOString(), granularity);
  const rows = (await reader.aggregates(tenantId, granularity, fromPeriod, toPeriod)).filter(
    (r) => q.model === undefined || r.model === q.model,
  );
  return summarize(tenantId, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), granularity }, rows);
}

function badBy(by: string): never {
  throw new BadRequestError(`'by' must be 'day' or 'hour', got '${by}'`);
}
