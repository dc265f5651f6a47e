import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Gateway } from "../../infra/local/gateway/server";
import { HOSTILE_REQUESTS, rawRequest, sendWholeBodyThenRead, wellFormed } from "../local/raw-http";
import { fakeAuthorizer, GOOD_KEY, startTestGateway } from "./gateway-fixture";

const authorized = (path: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${GOOD_KEY}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;

describe("gateway emulator under hostile input", () => {
  let gateway: Gateway;
  const accessed: number[] = [];
  beforeAll(async () => {
    gateway = await startTestGateway({
      maxPayloadBytes: 1024,
      accessLog: { begin: () => {}, end: (line) => accessed.push(Number(line.status)) },
    });
  });
  afterAll(() => gateway?.close());

  it("answers every hostile request with a 4xx JSON error and keeps serving", async () => {
    for (const request of HOSTILE_REQUESTS) {
      const res = await rawRequest(gateway.port, request);
      const clientError = res.status >= 400 && res.status < 500;
      expect({ request: request.slice(0, 60), status: res.status, clientError }).toMatchObject({ clientError: true });
      expect({ request: request.slice(0, 60), body: JSON.parse(res.body) }).toHaveProperty("body.error.type");
      expect((await rawRequest(gateway.port, wellFormed("/public"))).status).toBe(200);
    }
  });

  it("a target URL refuses (`GET //[x`) is routed as a path, not parsed as a host", async () => {
    const res = await rawRequest(gateway.port, "GET //[x HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(res.status).toBe(403);
    const absolute = await rawRequest(gateway.port, "GET http://[x HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(absolute.status).toBe(400);
    expect(JSON.parse(absolute.body)).toMatchObject({ error: { type: "bad_request" } });
  });

  it("refuses an unauthenticated or unroutable request before its body is sent", async () => {
    // 100 MB announced, nothing sent: the answer comes from the headers alone.
    const head = (path: string, auth = "") => `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 100000000\r\n\r\n`;
    const unauth = await rawRequest(gateway.port, head("/echo"), 1_000);
    expect(unauth.status).toBe(401);
    expect(unauth.headers.connection).toBe("close");
    expect((await rawRequest(gateway.port, head("/nowhere"), 1_000)).status).toBe(403);
    // Authorized: the announced size is checked next.
    expect((await rawRequest(gateway.port, head("/echo", `Authorization: Bearer ${GOOD_KEY}\r\n`), 1_000)).status).toBe(413);
  });

  it("counts a chunked body as it streams and refuses it past the cap", async () => {
    const chunk = "y".repeat(600);
    const res = await rawRequest(
      gateway.port,
      `POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${GOOD_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: { type: "payload_too_large" } });
    const ok = await rawRequest(gateway.port, authorized("/echo", '{"a":1}'));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ body: '{"a":1}' });
  });

  it("answers 504 integration_timeout when a handler outlives the route's timeout", async () => {
    const started = Date.now();
    const res = await rawRequest(gateway.port, authorized("/slow", ""), 3_000);
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({ error: { type: "integration_timeout", message: "Endpoint request timed out" } });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(accessed).toContain(504);
  });
});

describe("gateway emulator refusing a body it will not read", () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ maxPayloadBytes: 64 * 1024 });
  });
  afterAll(() => gateway?.close());

  const head = (method: string, path: string, bytes: number, auth = "") =>
    `${method} ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: ${bytes}\r\n\r\n`;

  it("every client that sends its whole body before reading reads its 4xx, never a reset", async () => {
    const cases: Array<[string, number]> = [
      [head("POST", "/echo", 4 << 20), 401], // no credentials
      [head("PATCH", "/echo", 4 << 20), 403], // no such method
      [head("POST", "/nowhere", 4 << 20), 403], // no such path
      [head("POST", "/echo", 4 << 20, `Authorization: Bearer ${GOOD_KEY}\r\n`), 413], // past the payload cap
    ];
    for (const [request, status] of cases) {
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => sendWholeBodyThenRead(gateway.port, request, 4 << 20)));
      expect(outcomes).toEqual(Array.from({ length: 10 }, () => ({ status, reset: false })));
    }
    expect((await rawRequest(gateway.port, wellFormed("/public"))).status).toBe(200);
  });

  it("stops discarding after its byte cap: a client that never stops sending is cut off", async () => {
    const capped = await startTestGateway({ maxPayloadBytes: 1024 });
    try {
      const closed = await new Promise<number>((resolve) => {
        const socket = connect(capped.port, "127.0.0.1");
        let sent = 0;
        const chunk = Buffer.alloc(1 << 20, 0x78);
        socket.on("error", () => {});
        socket.on("close", () => resolve(sent));
        socket.write(head("POST", "/echo", 1 << 30));
        const pump = () => {
          while (!socket.destroyed && sent < 1 << 30) {
            sent += chunk.length;
            if (!socket.write(chunk)) return void socket.once("drain", pump);
          }
        };
        pump();
      });
      // The default cap is 64 MiB; the announced gigabyte was never read to its end.
      expect(closed).toBeLessThan(512 << 20);
    } finally {
      await capped.close();
    }
  });
});

describe("gateway emulator against slow clients", () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 3 } });
  });
  afterAll(() => gateway?.close());

  it("a client that never finishes its headers gets 408 and is disconnected", async () => {
    const res = await new Promise<string>((resolve) => {
      const socket = connect(gateway.port, "127.0.0.1");
      let data = "";
      socket.on("data", (d) => {
        data += d.toString();
      });
      socket.on("close", () => resolve(data));
      socket.write("GET /public HTTP/1.1\r\nHost: x\r\n");
      setTimeout(() => socket.destroy(), 5_000).unref();
    });
    expect(res).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(res.slice(res.indexOf("\r\n\r\n") + 4))).toMatchObject({ error: { type: "request_timeout" } });
  });

  it("drops connections past maxConnections", async () => {
    const idle = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const s = connect(gateway.port, "127.0.0.1", () => resolve(s));
          }),
      ),
    );
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect((await rawRequest(gateway.port, wellFormed("/public"), 500)).status).toBe(0);
    } finally {
      for (const s of idle) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 50));
    expect((await rawRequest(gateway.port, wellFormed("/public"))).status).toBe(200);
  });
});

describe("gateway emulator authorizes before reading", () => {
  it("never calls the authorizer for an unroutable request", async () => {
    const authorizer = fakeAuthorizer();
    const gateway = await startTestGateway({ authorizer: authorizer.handler });
    try {
      await rawRequest(gateway.port, `POST /nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${GOOD_KEY}\r\nContent-Length: 0\r\n\r\n`);
      expect(authorizer.calls).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});
