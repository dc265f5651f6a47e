import { request } from "node:http";
import type { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { AccessLogLine } from "../../infra/local/gateway/access-log-file";
import type { Gateway, StreamingProxyHandler } from "../../infra/local/gateway/server";
import { installAwsLambdaGlobal, STREAMING_HANDLER } from "../../infra/local/lambda-runtime/awslambda-global";
import { GOOD_KEY, startTestGateway } from "./gateway-fixture";

installAwsLambdaGlobal();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the toy handler does, chosen per request by its body. */
type Script = (stream: Writable, event: { body: string | null }) => Promise<void>;

const scripts: Record<string, Script> = {
  sse: async (s) => {
    const out = awslambda.HttpResponseStream.from(s, { statusCode: 201, headers: { "content-type": "text/event-stream", "x-extra": "1" } });
    for (const n of [1, 2, 3]) {
      out.write(`data: ${n}\n\n`);
      if (n < 3) await sleep(300);
    }
    out.end();
  },
  plain: async (s) => {
    s.write("raw bytes");
    s.end();
  },
  "prelude-only": async (s) => {
    awslambda.HttpResponseStream.from(s, { statusCode: 204 }).end();
  },
  "throw-first": async () => {
    throw new Error("before any byte");
  },
  "throw-mid": async (s) => {
    const out = awslambda.HttpResponseStream.from(s, { statusCode: 200, headers: { "content-type": "text/event-stream" } });
    out.write("data: 1\n\n");
    await sleep(50);
    throw new Error("mid-stream");
  },
  slow: async (s) => {
    await sleep(4_000);
    s.end();
  },
  "slow-mid": async (s) => {
    s.write("started");
    await sleep(4_000);
    s.end();
  },
};

/** The client-abort case reports here what its stream saw and when its promise finished. */
const abortWatch: { closed?: boolean; finished?: boolean; writesAfterClose?: number } = {};
scripts.abort = async (s) => {
  s.on("close", () => {
    abortWatch.closed = true;
  });
  awslambda.HttpResponseStream.from(s, { statusCode: 200 });
  let writesAfterClose = 0;
  for (let i = 0; i < 20; i++) {
    if (s.destroyed) writesAfterClose++;
    s.write(`chunk ${i}\n`);
    await sleep(50);
  }
  abortWatch.writesAfterClose = writesAfterClose;
  abortWatch.finished = true;
};

const toy: StreamingProxyHandler = awslambda.streamifyResponse(async (event, responseStream) => {
  const script = scripts[event.body ?? ""];
  if (!script) throw new Error(`no script ${event.body}`);
  await script(responseStream, event);
});

interface Received {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  chunks: { at: number; text: string }[];
  ended: "end" | "error";
}

function call(gateway: Gateway, script: string, abortAfterFirst = false): Promise<Received> {
  return new Promise((resolve) => {
    const started = Date.now();
    const req = request(
      `${gateway.url}/stream`,
      { method: "POST", headers: { authorization: `Bearer ${GOOD_KEY}`, "content-type": "text/plain" } },
      (res) => {
        const got: Received = { status: res.statusCode ?? 0, headers: res.headers, chunks: [], ended: "end" };
        res.on("data", (d: Buffer) => {
          got.chunks.push({ at: Date.now() - started, text: d.toString() });
          if (abortAfterFirst) req.destroy();
        });
        res.on("end", () => resolve(got));
        res.on("error", () => resolve({ ...got, ended: "error" }));
        res.on("close", () => resolve({ ...got, ended: res.complete ? "end" : "error" }));
      },
    );
    req.on("error", () => undefined);
    req.end(script);
  });
}

describe("gateway emulator: streaming handlers (API Gateway response streaming)", () => {
  let gateway: Gateway;
  const access: AccessLogLine[] = [];
  beforeAll(async () => {
    gateway = await startTestGateway({ handlers: { admin: toy }, accessLog: { begin: () => {}, end: (line) => access.push(line) } });
  });
  afterAll(() => gateway?.close());

  it("streamifyResponse marks the handler as the runtime does", () => {
    expect((toy as unknown as Record<symbol, unknown>)[STREAMING_HANDLER]).toBe("response");
  });

  it("sends the prelude's status and headers, then each write as it happens", async () => {
    const got = await call(gateway, "sse");
    expect(got.status).toBe(201);
    expect(got.headers["content-type"]).toBe("text/event-stream");
    expect(got.headers["x-extra"]).toBe("1");
    expect(got.headers["content-length"]).toBeUndefined();
    expect(got.headers["transfer-encoding"]).toBe("chunked");
    expect(got.chunks.map((c) => c.text)).toEqual(["data: 1\n\n", "data: 2\n\n", "data: 3\n\n"]);
    const [first, , last] = got.chunks;
    expect(first && last && first.at < last.at - 400).toBe(true);
    expect(access.at(-1)).toMatchObject({ path: "/stream", status: 201, tenantId: "t1" });
  });

  it("without a prelude: 200 application/octet-stream, like Lambda", async () => {
    const got = await call(gateway, "plain");
    expect(got.status).toBe(200);
    expect(got.headers["content-type"]).toBe("application/octet-stream");
    expect(got.chunks.map((c) => c.text).join("")).toBe("raw bytes");
  });

  it("a prelude and no body still sends its status", async () => {
    expect((await call(gateway, "prelude-only")).status).toBe(204);
  });

  it("a throw before the first byte is a 502 JSON error", async () => {
    const got = await call(gateway, "throw-first");
    expect(got.status).toBe(502);
    expect(JSON.parse(got.chunks.map((c) => c.text).join(""))).toMatchObject({ error: { type: "bad_gateway" } });
    expect(access.at(-1)?.status).toBe(502);
  });

  it("a throw mid-stream ends the connection after what was sent", async () => {
    const got = await call(gateway, "throw-mid");
    expect(got.status).toBe(200);
    expect(got.chunks.map((c) => c.text).join("")).toBe("data: 1\n\n");
    expect(got.ended).toBe("error");
  });

  it("a client that leaves: the handler's stream sees close, and the handler runs to its end", async () => {
    await call(gateway, "abort", true);
    for (let i = 0; i < 40 && !abortWatch.finished; i++) await sleep(50);
    expect(abortWatch).toMatchObject({ closed: true, finished: true });
    expect(abortWatch.writesAfterClose).toBeGreaterThan(0);
  });

  it("honours the route's integration timeout: 504 before any byte, a cut connection after", async () => {
    const started = Date.now();
    const before = await call(gateway, "slow");
    expect(before.status).toBe(504);
    expect(JSON.parse(before.chunks.map((c) => c.text).join(""))).toMatchObject({ error: { type: "integration_timeout" } });
    expect(Date.now() - started).toBeLessThan(3_500);
    const after = await call(gateway, "slow-mid");
    expect(after.chunks.map((c) => c.text).join("")).toBe("started");
    expect(after.ended).toBe("error");
  }, 30_000);
});
