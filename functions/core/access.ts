import { BadRequestError } from "./errors";
import type { AccessLog, UsageSink } from "./ports";
import { buildUsageRecord, type UsageRecord } from "./usage";
import { parseRange } from "./usage-query";

/**
 * The access record of a request: written when the request was admitted, before the model is
 * called, and kept for the usage retention. A request that reached the model and has an access
 * record but no usage record is a metering gap: the process died (or was killed, or timed out)
 * between the model call and the usage write. Reconciliation finds such gaps and can repair them.
 * Its fields are the usage record's that are known before the call; `version` is the one the
 * request was routed to (a fallback may answer instead).
 */
export type AccessRecord = Pick<UsageRecord, "requestId" | "time" | "tenantId" | "keyId" | "model" | "version" | "alias" | "bytesIn">;

/**
 * Status a repaired record carries. 502 is what API Gateway answers when the integration dies:
 * the client never saw an answer, but the model was called, so the request is counted (like
 * other server-side errors that reached a model) and shows as an error in the usage report.
 */
export const REPAIRED_STATUS = 502;

/**
 * Access records younger than this may belong to requests still in flight (the invoke timeout
 * is 25 s, API Gateway's integration timeout 29 s): they are reported, never repaired.
 */
export const DEFAULT_MIN_AGE_SECONDS = 60;

export interface ReconcileQuery {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly repair?: boolean | undefined;
  /** Seconds an access record must be old before a missing usage record counts as a gap. */
  readonly minAgeSeconds?: number | string | undefined;
}

/** Gaps listed in one report; all are counted (and repaired), however many. */
export const MAX_LISTED_GAPS = 1000;

export interface ReconcileReport {
  readonly from: string;
  readonly to: string;
  /** Access records in the range. */
  readonly accessRecords: number;
  /** Of those, how many have their usage record. */
  readonly matched: number;
  /** Access records old enough to be settled, without a usage record: the gaps. */
  readonly gaps: number;
  /** The gaps, oldest day first, at most MAX_LISTED_GAPS. */
  readonly missing: AccessRecord[];
  /** Access records too young to judge (their request may still be running). */
  readonly inFlight: number;
  /** Gaps closed by this run (`repair`); a gap whose record appeared meanwhile counts as repaired too. */
  readonly repaired: number;
}

/** The usage record a gap is repaired with: counted once, marked as an unanswered request. */
export function repairRecordOf(a: AccessRecord): UsageRecord {
  const at = Date.parse(a.time);
  return buildUsageRecord({
    requestId: a.requestId,
    receivedAt: at,
    // Nobody knows when the call ended; latency 0 says so rather than inventing one.
    finishedAt: at,
    tenantId: a.tenantId,
    keyId: a.keyId,
    model: a.model,
    version: a.version,
    alias: a.alias,
    status: REPAIRED_STATUS,
    bytesIn: a.bytesIn,
    bytesOut: 0,
  });
}

function parseMinAge(v: ReconcileQuery["minAgeSeconds"]): number {
  if (v === undefined) return DEFAULT_MIN_AGE_SECONDS;
  const n = typeof v === "number" ? v : /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!(Number.isInteger(n) && n >= 0 && n <= 86_400))
    throw new BadRequestError(`'minAgeSeconds' must be an integer from 0 to 86400, got '${v}'`);
  return n;
}

/**
 * Compares the access records of [from, to] with the usage records of the same requests and
 * reports every access record that has none. With `repair`, each gap gets its usage record
 * through the same idempotent sink the requests use, so a repair that races a late write (or
 * another repair) still leaves exactly one record and one count in the aggregates.
 */
export async function reconcile(
  deps: { readonly access: AccessLog; readonly usage: UsageSink },
  q: ReconcileQuery,
  now = Date.now(),
): Promise<ReconcileReport> {
  const range = parseRange(q, now);
  const minAgeMs = parseMinAge(q.minAgeSeconds) * 1000;
  let accessRecords = 0;
  let matched = 0;
  let gaps = 0;
  let inFlight = 0;
  let repaired = 0;
  const missing: AccessRecord[] = [];
  // Page by page: a month of access records never has to fit in memory, only its gaps' listing.
  for await (const page of deps.access.accessRecords(range.from, range.to)) {
    accessRecords += page.length;
    const recorded = await deps.access.usageRecorded(page.map((r) => r.requestId));
    for (const r of page) {
      if (recorded.has(r.requestId)) {
        matched++;
      } else if (now - Date.parse(r.time) < minAgeMs) {
        inFlight++;
      } else {
        gaps++;
        if (missing.length < MAX_LISTED_GAPS) missing.push(r);
        if (q.repair) {
          await deps.usage.record(repairRecordOf(r));
          repaired++;
        }
      }
    }
  }
  return { ...range, accessRecords, matched, gaps, missing, inFlight, repaired };
}
