import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import type { AccessEntry } from "../../functions/core/access-log";
import { ACCESS_LOG_FIELDS } from "../../infra/aws/constructs/gateway-api";
import { ACCESS_LOG_FILE, AccessLogFile, JsonLinesAccessLog } from "../../infra/local/gateway/access-log-file";
import type { ProxyHandler } from "../../infra/local/gateway/server";
import { installAwsLambdaGlobal } from "../../infra/local/lambda-runtime/awslambda-global";
import { GOOD_KEY, startTestGateway } from "./gateway-fixture";

installAwsLambdaGlobal();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mg-access-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file = ACCESS_LOG_FILE) =>
  readFileSync(join(dir, file), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function all(log: JsonLinesAccessLog, from = "2000-01-01T00:00:00Z", to = "2100-01-01T00:00:00Z") {
  const out: AccessEntry[] = [];
  for await (const page of log.entries(from, to)) out.push(...page);
  return out;
}

const post = (url: string, path: string) =>
  fetch(`${url}${path}`, { method: "POST", headers: { authorization: `Bearer ${GOOD_KEY}` }, body: "{}" }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

describe("the local gateway's access log", () => {
  it("logs every request in the cloud stage's field names, handler crashes and timeouts included", async () => {
    const log = new AccessLogFile(dir);
    const crash: ProxyHandler = async () => {
      throw new Error("the function died");
    };
    const gateway = await startTestGateway({
      accessLog: log,
      handlers: { invoke: crash, usage: () => new Promise<never>(() => undefined) },
    });
    try {
      expect(await post(gateway.url, "/echo")).toBe(502);
      expect(await post(gateway.url, "/slow")).toBe(504);
      expect(await fetch(`${gateway.url}/echo`, { method: "POST" }).then((r) => r.status)).toBe(401);
    } finally {
      await gateway.close();
      await log.close();
    }
    const [crashed, timedOut, unauthorized] = lines();
    expect(crashed).toMatchObject({
      requestId: expect.any(String),
      requestTime: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
      requestTimeEpoch: expect.any(Number),
      httpMethod: "POST",
      resourcePath: "/echo",
      path: "/echo",
      status: 502,
      tenantId: "t1",
      responseLength: expect.any(Number),
      integrationLatency: expect.any(Number),
    });
    // Every name the local gateway writes is one the cloud stage's format has.
    for (const line of lines()) for (const field of Object.keys(line)) expect(Object.keys(ACCESS_LOG_FIELDS)).toContain(field);
    expect(timedOut).toMatchObject({ status: 504, resourcePath: "/slow" });
    expect(unauthorized).toMatchObject({ status: 401 });
    expect(unauthorized).not.toHaveProperty("tenantId");
    const read = await all(new JsonLinesAccessLog(dir));
    expect(read.map((e) => [e.status, e.tenantId])).toEqual([
      [502, "t1"],
      [504, "t1"],
      [401, undefined],
    ]);
  });

  it("logs a streamed response with the body bytes it sent", async () => {
    const log = new AccessLogFile(dir);
    const stream = awslambda.streamifyResponse(async (_event, responseStream) => {
      const out = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { "content-type": "text/event-stream" } });
      out.write("data: 1\n\n");
      out.write("data: 22\n\n");
      out.end();
    });
    const gateway = await startTestGateway({ accessLog: log, handlers: { admin: stream } });
    try {
      expect(await post(gateway.url, "/stream")).toBe(200);
    } finally {
      await gateway.close();
      await log.close();
    }
    expect(lines()).toEqual([expect.objectContaining({ status: 200, resourcePath: "/stream", responseLength: 19, tenantId: "t1" })]);
  });

  it("a request handed to a handler whose process died is logged at the next start as the 502 API Gateway logs", async () => {
    const first = new AccessLogFile(dir);
    const base = { requestTimeEpoch: Date.parse("2026-12-01T10:00:00Z"), httpMethod: "POST", resourcePath: "/echo", path: "/echo" };
    first.begin({ ...base, requestId: "done", tenantId: "t1" });
    first.end({ ...base, requestId: "done", tenantId: "t1", status: 200 });
    first.begin({ ...base, requestId: "killed", tenantId: "t1", keyId: "k1" });
    // The process is killed the instant the handler has the request: its note is already in the
    // file (no write still queued in the process), and nothing more is written or closed.
    expect(lines("in-flight.jsonl").at(-1)).toMatchObject({ begin: { requestId: "killed" } });

    const second = new AccessLogFile(dir);
    await second.close();
    const entries = await all(new JsonLinesAccessLog(dir));
    expect(entries.map((e) => [e.requestId, e.status])).toEqual([
      ["done", 200],
      ["killed", 502],
    ]);
    expect(entries[1]).toMatchObject({ tenantId: "t1", keyId: "k1", time: "2026-12-01T10:00:00.000Z" });
    // Once only: a third start finds nothing left to recover.
    await new AccessLogFile(dir).close();
    expect(await all(new JsonLinesAccessLog(dir))).toHaveLength(2);
    await first.close();
  });

  it("keeps the in-flight notes small under load, and still knows every request running", async () => {
    const log = new AccessLogFile(dir);
    const base = { requestTimeEpoch: Date.parse("2026-12-01T10:00:00Z"), httpMethod: "POST", resourcePath: "/echo", path: "/echo" };
    log.begin({ ...base, requestId: "long", tenantId: "t1" });
    // Enough finished requests to compact the notes several times over (1 MiB each).
    for (let i = 0; i < 20_000; i++) {
      log.begin({ ...base, requestId: `r${i}`, tenantId: "t1", userAgent: "x".repeat(100) });
      log.end({ ...base, requestId: `r${i}`, tenantId: "t1", status: 200 });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(statSync(join(dir, "in-flight.jsonl")).size).toBeLessThan(2 * 1024 * 1024);
    // Killed now: the next start logs exactly the one still running.
    await new AccessLogFile(dir).close();
    const failed = (await all(new JsonLinesAccessLog(dir))).filter((e) => e.status === 502);
    expect(failed.map((e) => e.requestId)).toEqual(["long"]);
    await log.close();
  });

  it("rotates by size and reads the rotated files too, oldest first; reads only the range asked for", async () => {
    const log = new AccessLogFile(dir, { maxBytes: 400, keep: 2 });
    const t0 = Date.parse("2026-12-01T10:00:00Z");
    for (let i = 0; i < 12; i++)
      log.end({ requestId: `r${i}`, requestTimeEpoch: t0 + i * 1000, httpMethod: "POST", resourcePath: "/x", path: "/x", status: 200 });
    await log.close();
    const files = readdirSync(dir).filter((f) => f.startsWith("access"));
    expect(files.sort()).toEqual(["access.1.jsonl", "access.2.jsonl", "access.jsonl"]);
    const ids = (await all(new JsonLinesAccessLog(dir, 2))).map((e) => Number(e.requestId.slice(1)));
    // The oldest lines went with the file rotated out; what is kept is in order.
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.at(-1)).toBe(11);
    const ranged = await all(new JsonLinesAccessLog(dir), new Date(t0 + 10_000).toISOString(), new Date(t0 + 11_000).toISOString());
    expect(ranged.map((e) => e.requestId)).toEqual(["r10", "r11"]);
  });

  it("a log that cannot be written is reported once and never fails a request", async () => {
    const errors: string[] = [];
    // A full disk: the file opens, every write fails (ENOSPC).
    symlinkSync("/dev/full", join(dir, ACCESS_LOG_FILE));
    const log = new AccessLogFile(dir, { onError: (m) => errors.push(m) });
    const gateway = await startTestGateway({ accessLog: log });
    try {
      for (let i = 0; i < 3; i++) expect(await post(gateway.url, "/echo")).toBe(200);
    } finally {
      await gateway.close();
      await log.close();
    }
    expect(errors).toEqual([expect.stringMatching(/access log write failed .*ENOSPC/)]);
  });
});
