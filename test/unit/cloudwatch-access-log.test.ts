import { CloudWatchLogsClient, GetQueryResultsCommand, type ResultField, StartQueryCommand } from "@aws-sdk/client-cloudwatch-logs";
import { afterEach, describe, expect, it } from "@jest/globals";
import { mockClient } from "aws-sdk-client-mock";
import { CloudWatchAccessLog, INSIGHTS_MAX_ROWS } from "../../functions/aws/cloudwatch-access-log";
import type { AccessEntry } from "../../functions/core/access-log";

/**
 * The cloud-only adapter has no local stand-in (no CloudWatch Logs locally): Logs Insights is
 * mocked, answering from a list of log lines by their event time, as the service would.
 */
const logs = mockClient(CloudWatchLogsClient);
afterEach(() => {
  logs.reset();
});

const FROM = Date.parse("2026-12-01T10:00:00Z");

interface Line {
  readonly eventMs: number;
  readonly fields: Record<string, string>;
}

const line = (i: number, receivedMs: number, eventMs = receivedMs + 50): Line => ({
  eventMs,
  fields: {
    requestId: `r${i}`,
    requestTimeEpoch: String(receivedMs),
    httpMethod: "POST",
    resourcePath: "/v2/models/{model}/infer",
    path: "/prod/v2/models/iris/infer",
    status: "200",
    responseLength: "-",
    tenantId: "acme",
    keyId: "k1",
  },
});

/** Insights over `lines`: [startTime, endTime] in seconds, both inclusive, at most 10,000 rows; Running once before Complete. */
function insights(lines: readonly Line[]) {
  const queries = new Map<string, { start: number; end: number; polls: number }>();
  const started: Array<[number, number]> = [];
  logs.on(StartQueryCommand).callsFake(async (input: { startTime: number; endTime: number; logGroupName: string; queryString: string }) => {
    expect(input.logGroupName).toBe("/aws/apigateway/mg-access");
    expect(input.queryString).toContain("limit 10000");
    const queryId = `q${queries.size}`;
    queries.set(queryId, { start: input.startTime, end: input.endTime, polls: 0 });
    started.push([input.startTime, input.endTime]);
    return { queryId };
  });
  logs.on(GetQueryResultsCommand).callsFake(async ({ queryId }: { queryId: string }) => {
    const q = queries.get(queryId);
    if (!q) throw new Error(`unknown query ${queryId}`);
    if (q.polls++ === 0) return { status: "Running" };
    const results: ResultField[][] = lines
      .filter((l) => l.eventMs >= q.start * 1000 && l.eventMs < (q.end + 1) * 1000)
      .sort((a, b) => a.eventMs - b.eventMs)
      .slice(0, INSIGHTS_MAX_ROWS)
      .map((l) => [
        { field: "@timestamp", value: new Date(l.eventMs).toISOString().replace("T", " ").replace("Z", "") },
        ...Object.entries(l.fields).map(([field, value]) => ({ field, value })),
        { field: "@ptr", value: "x" },
      ]);
    return { status: "Complete", results };
  });
  return { started };
}

async function read(log: CloudWatchAccessLog, from: number, to: number): Promise<AccessEntry[]> {
  const out: AccessEntry[] = [];
  for await (const page of log.entries(new Date(from).toISOString(), new Date(to).toISOString())) out.push(...page);
  return out;
}

const reader = () => new CloudWatchAccessLog(new CloudWatchLogsClient({ region: "us-east-1" }), "/aws/apigateway/mg-access", { pollMs: 0 });

describe("CloudWatchAccessLog (Logs Insights)", () => {
  it("queries the log group, polls to completion and keeps the requests received in the range", async () => {
    const { started } = insights([
      line(1, FROM - 1000),
      line(2, FROM + 1000),
      // Received in the range, logged 14 minutes later: a long stream.
      line(3, FROM + 2000, FROM + 2000 + 14 * 60_000),
      line(4, FROM + 61_000),
    ]);
    const entries = await read(reader(), FROM, FROM + 60_000);
    expect(entries.map((e) => e.requestId)).toEqual(["r2", "r3"]);
    expect(entries[0]).toEqual({
      requestId: "r2",
      time: new Date(FROM + 1000).toISOString(),
      httpMethod: "POST",
      resourcePath: "/v2/models/{model}/infer",
      path: "/prod/v2/models/iris/infer",
      status: 200,
      tenantId: "acme",
      keyId: "k1",
    });
    // One query, reaching past the range by the longest a line can lag its request.
    expect(started).toHaveLength(1);
    expect(started[0]?.[0]).toBe(FROM / 1000);
    expect((started[0]?.[1] ?? 0) * 1000).toBeGreaterThan(FROM + 60_000 + 15 * 60_000);
  });

  it("splits a window whose query hits the 10,000-row cap until none does: every line once", async () => {
    // 25,000 requests over 100 seconds.
    const many = Array.from({ length: 25_000 }, (_, i) => line(i, FROM + Math.floor(i / 250) * 1000 + (i % 250)));
    const { started } = insights(many);
    const entries = await read(reader(), FROM, FROM + 100_000);
    expect(entries).toHaveLength(25_000);
    expect(new Set(entries.map((e) => e.requestId)).size).toBe(25_000);
    expect(started.length).toBeGreaterThan(3);
  });

  it("fails loudly when a query fails, or when one second holds more lines than a query returns", async () => {
    logs.on(StartQueryCommand).resolves({ queryId: "q" });
    logs.on(GetQueryResultsCommand).resolves({ status: "Failed" });
    await expect(read(reader(), FROM, FROM + 1000)).rejects.toThrow(/ended Failed/);
    logs.reset();
    insights(Array.from({ length: INSIGHTS_MAX_ROWS + 1 }, (_, i) => line(i, FROM + 100)));
    await expect(read(reader(), FROM, FROM + 1000)).rejects.toThrow(/more than 10000 access log lines in one second/);
  });
});
