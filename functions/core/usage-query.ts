import { BadRequestError } from "./errors";
import type { UsageReader } from "./ports";
import { type Granularity, periodOf, summarize, USAGE_GROUPS, type UsageGroup, type UsageReport } from "./usage";

export interface UsageQuery {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly model?: string | undefined;
  readonly by?: string | undefined;
  readonly group?: string | undefined;
}

/** The query parameters a usage report reads (`GET /v1/usage` and its admin twin). */
export const USAGE_QUERY_PARAMS = ["from", "to", "model", "by", "group"] as const satisfies readonly (keyof UsageQuery)[];

const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;
const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseTime(value: string, field: "from" | "to"): number {
  // A bare date means that whole day in UTC: its start for `from`, its end for `to`.
  const t = Date.parse(BARE_DATE.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(t)) throw new BadRequestError(`'${field}' must be an ISO-8601 date or time, got '${value}'`);
  return BARE_DATE.test(value) && field === "to" ? t + DAY_MS - 1 : t;
}

/** A validated time range, both ends inclusive, as ISO strings. */
export interface TimeRange {
  readonly from: string;
  readonly to: string;
}

/** Parses `from`/`to` (default: the current month to date); 400 naming the bad parameter. */
export function parseRange(q: Pick<UsageQuery, "from" | "to">, now = Date.now()): TimeRange {
  const nowIso = new Date(now).toISOString();
  const from = q.from !== undefined ? parseTime(q.from, "from") : Date.parse(`${nowIso.slice(0, 7)}-01T00:00:00Z`);
  const to = q.to !== undefined ? parseTime(q.to, "to") : now;
  if (from > to) throw new BadRequestError("'from' must not be after 'to'");
  if (to - from > MAX_RANGE_DAYS * DAY_MS) throw new BadRequestError(`'from'..'to' may span at most ${MAX_RANGE_DAYS} days`);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

function parseBy(by: string | undefined): Granularity {
  if (by === undefined || by === "day" || by === "hour") return by ?? "day";
  throw new BadRequestError(`'by' must be 'day' or 'hour', got '${by}'`);
}

function parseGroup(group: string | undefined): UsageGroup {
  if (group === undefined) return "version";
  if ((USAGE_GROUPS as readonly string[]).includes(group)) return group as UsageGroup;
  throw new BadRequestError(`'group' must be one of ${USAGE_GROUPS.join(", ")}, got '${group}'`);
}

/** Validates a usage query and reads the report: stored aggregates summed per period and group. */
export async function usageReport(reader: UsageReader, tenantId: string, q: UsageQuery, now = Date.now()): Promise<UsageReport> {
  const granularity = parseBy(q.by);
  const group = parseGroup(q.group);
  const range = parseRange(q, now);
  const rows = (await reader.aggregates(tenantId, granularity, periodOf(range.from, granularity), periodOf(range.to, granularity))).filter(
    (r) => q.model === undefined || r.model === q.model,
  );
  return summarize(tenantId, { ...range, granularity, group }, rows);
}
