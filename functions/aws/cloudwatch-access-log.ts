import { type CloudWatchLogsClient, GetQueryResultsCommand, type ResultField, StartQueryCommand } from "@aws-sdk/client-cloudwatch-logs";
import { ACCESS_LOG_FIELD_NAMES, type AccessEntry, accessEntryOf } from "../core/access-log";
import type { AccessLog } from "../core/ports";

/** Logs Insights returns at most this many rows per query. */
export const INSIGHTS_MAX_ROWS = 10_000;
/**
 * API Gateway writes a request's line when the request ends: up to 15 minutes (a streamed
 * response) after it was received, then delivery. Events are searched that much past the range.
 */
const LINE_DELAY_MS = 20 * 60_000;

export interface CloudWatchAccessLogOptions {
  /** Between polls of a running query. @default 1000 */
  readonly pollMs?: number;
  /** How long one query may run before the read fails. @default 240 s (the admin function has 300 s) */
  readonly maxWaitMs?: number;
}

/**
 * The API Gateway stage's access log in CloudWatch Logs, read with Logs Insights: one query per
 * time window over the log group, polled to completion. A window whose query returns the row
 * cap is split in two and each half queried again (down to one second), so no line is lost to
 * the cap. Windows are in event time (when the line was written), which runs behind the
 * request's received time; the range is applied to `requestTimeEpoch` here.
 */
export class CloudWatchAccessLog implements AccessLog {
  private readonly pollMs: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly logGroupName: string,
    options: CloudWatchAccessLogOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.maxWaitMs = options.maxWaitMs ?? 240_000;
  }

  async *entries(fromTime: string, toTime: string): AsyncIterable<readonly AccessEntry[]> {
    const from = Date.parse(fromTime);
    const to = Date.parse(toTime);
    // Half-open windows of whole seconds, [start, end), earliest first.
    const windows: Array<[number, number]> = [[Math.floor(from / 1000), Math.ceil((to + LINE_DELAY_MS) / 1000) + 1]];
    while (windows.length > 0) {
      const [start, end] = windows.shift() as [number, number];
      const rows = await this.query(start, end);
      if (rows.length >= INSIGHTS_MAX_ROWS) {
        if (end - start <= 1)
          throw new Error(`more than ${INSIGHTS_MAX_ROWS} access log lines in one second at ${new Date(start * 1000).toISOString()}`);
        const mid = start + Math.floor((end - start) / 2);
        windows.unshift([start, mid], [mid, end]);
        continue;
      }
      const page: AccessEntry[] = [];
      for (const row of rows) {
        const fields = Object.fromEntries(row.map((f) => [f.field ?? "", f.value]));
        // A query's end second is inclusive: an event on the boundary belongs to the next window.
        const at = insightsTime(fields["@timestamp"]);
        if (at !== undefined && at >= end * 1000) continue;
        const entry = accessEntryOf(fields);
        if (!entry) continue;
        const received = Date.parse(entry.time);
        if (received >= from && received <= to) page.push(entry);
      }
      if (page.length > 0) yield page;
    }
  }

  private async query(startSeconds: number, endSeconds: number): Promise<ResultField[][]> {
    const { queryId } = await this.client.send(
      new StartQueryCommand({
        logGroupName: this.logGroupName,
        startTime: startSeconds,
        endTime: endSeconds,
        queryString: [
          `fields @timestamp, ${ACCESS_LOG_FIELD_NAMES.join(", ")}`,
          "filter ispresent(requestId)",
          "sort @timestamp asc",
          `limit ${INSIGHTS_MAX_ROWS}`,
        ].join(" | "),
      }),
    );
    if (!queryId) throw new Error("Logs Insights started no query");
    const deadline = Date.now() + this.maxWaitMs;
    for (;;) {
      const out = await this.client.send(new GetQueryResultsCommand({ queryId }));
      if (out.status === "Complete") return out.results ?? [];
      if (out.status !== "Running" && out.status !== "Scheduled")
        throw new Error(`the access log query ${queryId} ended ${out.status ?? "without a status"}`);
      if (Date.now() > deadline) throw new Error(`the access log query ${queryId} did not complete within ${this.maxWaitMs} ms`);
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}

/** Logs Insights' `@timestamp` (`2026-12-01 14:32:39.123`, UTC) in epoch milliseconds. */
function insightsTime(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const ms = Date.parse(`${v.replace(" ", "T")}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}
