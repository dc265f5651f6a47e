import { connect } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Everything the server sent, as text. */
  readonly raw: string;
}

/**
 * Sends `request` (bytes written by hand, so nothing is normalised by a client library) to
 * 127.0.0.1:port and collects what comes back until the server closes or `waitMs` passes with
 * a complete response in hand. Resolves status 0 when the server answered nothing.
 */
export function rawRequest(port: number, request: string | Buffer, waitMs = 2_000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(data.toString("latin1")));
    };
    socket.on("data", (d) => {
      data = Buffer.concat([data, d]);
      const parsed = parseResponse(data.toString("latin1"));
      // Complete once the declared length has arrived.
      const length = Number(parsed.headers["content-length"] ?? Number.NaN);
      if (parsed.status && Number.isFinite(length) && Buffer.byteLength(parsed.body, "latin1") >= length) done();
    });
    socket.on("error", done);
    socket.on("close", done);
    socket.write(request);
    timer = setTimeout(done, waitMs);
  });
}

function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) return { status: 0, headers: {}, body: "", raw };
  const [statusLine = "", ...lines] = raw.slice(0, split).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: raw.slice(split + 4), raw };
}

/** Hostile request heads Node's parser accepts (or refuses itself), one line each. */
export const HOSTILE_REQUESTS: readonly string[] = [
  "GET //[x HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET http://[x HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST /2015-03-31/functions/%E0%A4%A/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
  "POST /endpoints/%E0%A4%A/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
  "GET /v2/models/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /%ZZ HTTP/1.1\r\nHost: x\r\n\r\n",
  "BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
  "GARBAGE\r\n\r\n",
  `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
];

/** The request sent after each hostile one: the listener must still answer it. */
export const wellFormed = (path: string, method = "GET") =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;

/**
 * Sends a request head and its whole body before reading anything back, as most clients do (and
 * as a client on a slow link effectively does): if the server closes while the body is still
 * arriving, the connection resets and this resolves `reset` instead of the status.
 */
export function sendWholeBodyThenRead(port: number, head: string, bodyBytes: number): Promise<{ status: number; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.pause();
    let data = "";
    let reset = false;
    socket.on("data", (d) => {
      data += d.toString("latin1");
    });
    socket.on("error", () => {
      reset = true;
    });
    socket.on("close", () => resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0), reset }));
    socket.write(head);
    socket.end(Buffer.alloc(bodyBytes, 0x78), () => socket.resume());
  });
}
