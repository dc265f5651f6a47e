import { BadRequestError } from "./errors";
import type { UsageReader } from "./ports";
import { kindOf, type UsageKind, type UsageRecord } from "./usage";
import { parseRange } from "./usage-query";

export interface ExportQuery {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly limit?: string | undefined;
  readonly cursor?: string | undefined;
  /** Comma-separated non-billable kinds to add: `refused`, `shadow`. */
  readonly include?: string | undefined;
}

/** The query parameters an export page reads (`GET /v1/usage/records` and its admin twin). */
export const EXPORT_QUERY_PARAMS = ["from", "to", "limit", "cursor", "include"] as const satisfies readonly (keyof ExportQuery)[];

export interface ExportPage {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  /** Kinds in this export; `billable` always. */
  readonly include: UsageKind[];
  readonly records: UsageRecord[];
  /** Pass back (with the same query) for the next page; absent on the last page. */
  readonly cursor?: string;
}

export const DEFAULT_EXPORT_LIMIT = 100;
export const MAX_EXPORT_LIMIT = 1000;
/**
 * Day queries one page may make. A long, mostly empty range then costs several short calls
 * instead of one that runs into the function's timeout; a page may hold fewer records than
 * `limit`, even none, and only a missing cursor means the end.
 */
export const MAX_DAYS_PER_PAGE = 31;

const OPTIONAL_KINDS: readonly UsageKind[] = ["refused", "shadow"];

function parseLimit(limit: string | undefined): number {
  if (limit === undefined) return DEFAULT_EXPORT_LIMIT;
  const n = /^\d+$/.test(limit) ? Number(limit) : Number.NaN;
  if (!(n >= 1 && n <= MAX_EXPORT_LIMIT))
    throw new BadRequestError(`'limit' must be an integer from 1 to ${MAX_EXPORT_LIMIT}, got '${limit}'`);
  return n;
}

function parseInclude(include: string | undefined): UsageKind[] {
  const extra = new Set<UsageKind>();
  for (const part of (include ?? "").split(",").map((s) => s.trim())) {
    // The billed kinds (interactive and batch) are always exported; naming them is harmless.
    if (part === "" || part === "billable" || part === "batch") continue;
    if (!(OPTIONAL_KINDS as readonly string[]).includes(part))
      throw new BadRequestError(`'include' takes ${OPTIONAL_KINDS.join(" and/or ")}, got '${part}'`);
    extra.add(part as UsageKind);
  }
  return ["billable", "batch", ...OPTIONAL_KINDS.filter((k) => extra.has(k))];
}

/** Where the next page starts: a day of the range and, within it, the reader's own position. */
interface Position {
  readonly day: string;
  readonly after?: string;
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify(p.after === undefined ? { d: p.day } : { d: p.day, a: p.after }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string, fromDay: string, toDay: string): Position {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { d?: unknown; a?: unknown };
    const day = v.d;
    const okAfter = v.a === undefined || typeof v.a === "string";
    if (typeof day === "string" && /^\d{4}-\d{2}-\d{2}$/.test(day) && day >= fromDay && day <= toDay && okAfter) {
      return typeof v.a === "string" ? { day, after: v.a } : { day };
    }
  } catch {
    // Falls through to the 400 below.
  }
  throw new BadRequestError("'cursor' is not valid for this range");
}

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * One page of a tenant's records in [from, to], oldest first: day by day through the records'
 * tenant/day index, never a scan. Non-billable kinds are left out unless included; they are
 * filtered after reading, so the reader's position stays exact either way.
 */
export async function exportUsage(reader: UsageReader, tenantId: string, q: ExportQuery, now = Date.now()): Promise<ExportPage> {
  const range = parseRange(q, now);
  const limit = parseLimit(q.limit);
  const include = parseInclude(q.include);
  const fromDay = range.from.slice(0, 10);
  const toDay = range.to.slice(0, 10);
  let pos: Position = q.cursor !== undefined ? decodeCursor(q.cursor, fromDay, toDay) : { day: fromDay };
  const records: UsageRecord[] = [];
  const page = (cursor?: Position): ExportPage => ({
    tenantId,
    ...range,
    include,
    records,
    ...(cursor ? { cursor: encodeCursor(cursor) } : {}),
  });
  for (let queries = 1; ; queries++) {
    const read = await reader.records(tenantId, pos.day, {
      fromTime: range.from,
      toTime: range.to,
      limit: limit - records.length,
      after: pos.after,
    });
    records.push(...read.items.filter((r) => include.includes(kindOf(r))));
    if (read.cursor !== undefined) pos = { day: pos.day, after: read.cursor };
    else if (pos.day < toDay) pos = { day: nextDay(pos.day) };
    else return page();
    if (records.length >= limit || queries >= MAX_DAYS_PER_PAGE) return page(pos);
  }
}
