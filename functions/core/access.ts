import { type AccessEntry, pathParamsOf } from "./access-log";
import { BadRequestError } from "./errors";
import type { AccessLog, UsageReader, UsageSink } from "./ports";
import { buildUsageRecord, type UsageRecord } from "./usage";
import { parseRange } from "./usage-query";
import { parseVersionNumber } from "./version-number";

/**
 * Reconciliation: the gateway's access log (written for every request, whether or not the
 * handler survived) against the usage records. A request on a model route whose status says the
 * model may have run, and that has no usage record, is a metering gap: the process died (was
 * killed, timed out) between the model call and the usage write, or a stream's record could not
 * be written after its answer had gone out. Nothing is written on the request path for this.
 */

/** A route whose requests reach a model (infra/shared/routes.ts: MODEL_ROUTES). */
export interface ModelRoute {
  readonly method: string;
  /** The route template, as the access log's `resourcePath` names it. */
  readonly path: string;
}

/**
 * Statuses after which the model may have been called, so a usage record is owed: an answer
 * (2xx); the gateway's own 502 (the handler crashed) and 504 (integration timeout; the handler
 * may run on); 499 (the local gateway: the client left before a status, the handler ran on).
 * Not gaps: 4xx (refused before a model, or a model's 4xx answer, which is recorded before it
 * is sent), 503 (not ready or unreachable, or usage could not be recorded and the request
 * failed closed: nobody owes anything) and 500 (an unexpected error, from the handler: one that
 * followed a model call was recorded before the answer, one without a record came before the
 * call, e.g. a failed registry read, and billing it would bill a request no model ran).
 * A handler writes a buffered answer's usage record before answering, so an answered status
 * owed a record has one; what is left are crashes, timeouts and streams (answered first).
 */
export function modelMayHaveRun(status: number): boolean {
  return (status >= 200 && status <= 299) || status === 499 || status === 502 || status === 504;
}

/**
 * Log entries younger than this may belong to requests still running: they are reported as in
 * flight, never as gaps. The gateway logs a request when it ends, but after a 504 (or a client
 * that left) the handler runs on to its own timeout and writes the record then, stamped with the
 * request's received time. The longest is a streamed generation: 14 minutes (STREAM_TIMEOUT_MS)
 * inside the LLM function's 15-minute timeout. 20 minutes covers that and the write's retries.
 */
export const DEFAULT_MIN_AGE_SECONDS = 20 * 60;

/** The model a gap is recorded under when its route does not name one (the OpenAI routes: the model is in the body). */
export const UNKNOWN_MODEL = "(unknown)";

export interface ReconcileQuery {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly repair?: boolean | undefined;
  /** Seconds a request must be old before a missing usage record counts as a gap. */
  readonly minAgeSeconds?: number | string | undefined;
}

/** Gaps listed in one report; all are counted (and repaired), however many. */
export const MAX_LISTED_GAPS = 1000;

/**
 * A request the access log has and the usage records do not: what the log knows of it, in the
 * usage record's terms. `model` comes from the path where the route names it, else
 * UNKNOWN_MODEL; `version` from the path where it names a number, else 0 (chosen by an alias or
 * the body); `alias` where the path names one; `status` is what the gateway answered.
 */
export type Gap = Pick<UsageRecord, "requestId" | "time" | "tenantId" | "keyId" | "model" | "version" | "alias" | "status"> & {
  readonly path: string;
};

export interface ReconcileReport {
  readonly from: string;
  readonly to: string;
  /** Requests on model routes in the access log, received in the range. */
  readonly accessRecords: number;
  /** Of those, how many may have reached a model (see modelMayHaveRun) and have their usage record. */
  readonly matched: number;
  /** Requests that never reached a model (4xx, 500, 503, or no caller): no usage record owed. */
  readonly unmetered: number;
  /** Requests that may have reached a model, old enough to be settled, without a usage record. */
  readonly gaps: number;
  /** The gaps, at most MAX_LISTED_GAPS. */
  readonly missing: Gap[];
  /** Requests too young to judge (they may still be running). */
  readonly inFlight: number;
  /** Gaps closed by this run (`repair`); a gap whose record appeared meanwhile counts as repaired too. */
  readonly repaired: number;
}

export interface ReconcileDeps {
  readonly access: AccessLog;
  /** Whose records say which requests are metered. */
  readonly records: Pick<UsageReader, "records">;
  /** Where repairs are written: the idempotent sink the requests use. */
  readonly usage: UsageSink;
  readonly modelRoutes: readonly ModelRoute[];
}

/**
 * The usage record a gap is repaired with: counted once (the request may have run the model),
 * with what the log knows. Its status is the gateway's; nobody knows when the call ended, so
 * latency is 0; bytes in are unknown (0), bytes out are what the gateway sent; no tokens.
 */
export function repairRecordOf(g: Gap, responseLength = 0): UsageRecord {
  const at = Date.parse(g.time);
  return buildUsageRecord({
    requestId: g.requestId,
    receivedAt: at,
    finishedAt: at,
    tenantId: g.tenantId,
    keyId: g.keyId,
    model: g.model,
    version: g.version,
    alias: g.alias,
    status: g.status,
    bytesIn: 0,
    bytesOut: responseLength,
  });
}

function parseMinAge(v: ReconcileQuery["minAgeSeconds"]): number {
  if (v === undefined) return DEFAULT_MIN_AGE_SECONDS;
  const n = typeof v === "number" ? v : /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!(Number.isInteger(n) && n >= 0 && n <= 86_400))
    throw new BadRequestError(`'minAgeSeconds' must be an integer from 0 to 86400, got '${v}'`);
  return n;
}

/** What a model route's path says of the model and version. */
function gapOf(e: AccessEntry & { tenantId: string; keyId: string }): Gap {
  const params = pathParamsOf(e.resourcePath, e.path) ?? {};
  const selector = params.version;
  const version = selector !== undefined ? parseVersionNumber(selector) : undefined;
  return {
    requestId: e.requestId,
    time: e.time,
    tenantId: e.tenantId,
    keyId: e.keyId,
    model: params.model ?? UNKNOWN_MODEL,
    version: version ?? 0,
    ...(selector !== undefined && version === undefined ? { alias: selector } : {}),
    status: e.status,
    path: e.path,
  };
}

/** Records read per page when looking requests up. */
const LOOKUP_PAGE = 1000;

/**
 * Those of `entries` that have a usage record, through UsageReader.records only: the entries
 * grouped by tenant and day, each group's records read over the span of its entries' times
 * (a record's `time` is its request's received time, the log's requestTimeEpoch).
 */
export async function usageRecorded(
  reader: Pick<UsageReader, "records">,
  entries: ReadonlyArray<Pick<AccessEntry, "requestId" | "time"> & { readonly tenantId: string }>,
): Promise<Set<string>> {
  const groups = new Map<string, { tenantId: string; day: string; from: string; to: string; ids: Set<string> }>();
  for (const e of entries) {
    const day = e.time.slice(0, 10);
    const key = `${e.tenantId}\n${day}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { tenantId: e.tenantId, day, from: e.time, to: e.time, ids: new Set([e.requestId]) });
    else {
      g.ids.add(e.requestId);
      if (e.time < g.from) g.from = e.time;
      if (e.time > g.to) g.to = e.time;
    }
  }
  const found = new Set<string>();
  for (const g of groups.values()) {
    let after: string | undefined;
    let hits = 0;
    do {
      const page = await reader.records(g.tenantId, g.day, { fromTime: g.from, toTime: g.to, limit: LOOKUP_PAGE, after });
      for (const r of page.items) {
        if (!g.ids.has(r.requestId)) continue;
        found.add(r.requestId);
        hits++;
      }
      after = page.cursor;
    } while (after !== undefined && hits < g.ids.size);
  }
  return found;
}

/**
 * Compares the access log's requests of [from, to] with their usage records and reports each
 * that is owed one and has none. With `repair`, each gap gets its record through the same
 * idempotent sink the requests use, so a repair that races a late write (or another repair)
 * still leaves exactly one record.
 */
export async function reconcile(deps: ReconcileDeps, q: ReconcileQuery, now = Date.now()): Promise<ReconcileReport> {
  const range = parseRange(q, now);
  const minAgeMs = parseMinAge(q.minAgeSeconds) * 1000;
  const isModelRoute = new Set(deps.modelRoutes.map((r) => `${r.method} ${r.path}`));
  let accessRecords = 0;
  let matched = 0;
  let unmetered = 0;
  let gaps = 0;
  let inFlight = 0;
  let repaired = 0;
  const missing: Gap[] = [];
  // Page by page: a month of requests never has to fit in memory, only its gaps' listing.
  for await (const page of deps.access.entries(range.from, range.to)) {
    const owed: Array<AccessEntry & { tenantId: string; keyId: string }> = [];
    for (const e of page) {
      if (!isModelRoute.has(`${e.httpMethod} ${e.resourcePath}`)) continue;
      accessRecords++;
      if (e.tenantId && e.keyId && modelMayHaveRun(e.status)) owed.push({ ...e, tenantId: e.tenantId, keyId: e.keyId });
      else unmetered++;
    }
    if (owed.length === 0) continue;
    const recorded = await usageRecorded(deps.records, owed);
    for (const e of owed) {
      if (recorded.has(e.requestId)) {
        matched++;
      } else if (now - Date.parse(e.time) < minAgeMs) {
        inFlight++;
      } else {
        gaps++;
        const gap = gapOf(e);
        if (missing.length < MAX_LISTED_GAPS) missing.push(gap);
        if (q.repair) {
          await deps.usage.record(repairRecordOf(gap, e.responseLength));
          repaired++;
        }
      }
    }
  }
  return { ...range, accessRecords, matched, unmetered, gaps, missing, inFlight, repaired };
}
