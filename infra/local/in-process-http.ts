import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { PassThrough } from "node:stream";
import { readBody } from "./read-body";

/**
 * A request as a local server reads it, from its socket or handed over in the same process (the
 * SageMaker emulator from the handlers' SDK client, a model host from the emulator).
 */
export interface LocalHttpRequest {
  readonly method: string;
  /** Path and query, percent-encoded as on the wire. */
  readonly url: string;
  /** Lower-case names. */
  readonly headers: IncomingHttpHeaders;
  /** Whether the whole body has been received (a refusal before reading it closes the connection). */
  readonly complete: boolean;
  /** The whole body, refused with `tooLarge()` past `maxBytes`. */
  body(maxBytes: number, tooLarge: () => unknown): Promise<Buffer>;
}

/** How a local server answers: the subset of node:http's ServerResponse they use. */
export interface LocalHttpReply {
  readonly headersSent: boolean;
  /** The reader has gone (or the reply was cut): writes go nowhere. */
  readonly destroyed: boolean;
  setHeader(name: string, value: string): void;
  writeHead(status: number, headers: OutgoingHttpHeaders): void;
  /** False when the reader is behind: wait for 'drain' before writing more. */
  write(chunk: Uint8Array | string): boolean;
  end(chunk?: Uint8Array | string): void;
  destroy(): void;
  /** 'close': the exchange is over (answered, or the reader went); 'drain': the reader caught up. */
  once(event: "close" | "drain", listener: () => void): unknown;
}

/** A local server's whole request handling, whichever way the request came. */
export type LocalServe = (req: LocalHttpRequest, res: LocalHttpReply) => Promise<void>;

export function fromNodeRequest(req: IncomingMessage): LocalHttpRequest {
  return {
    method: req.method ?? "GET",
    url: req.url ?? "/",
    headers: req.headers,
    get complete() {
      return req.complete;
    },
    body: (maxBytes, tooLarge) => readBody(req, { maxBytes, tooLarge }),
  };
}

/** A request already in memory (handed over in process): complete, its size checked against the limit. */
export function inMemoryRequest(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): LocalHttpRequest {
  return {
    method,
    url,
    headers,
    complete: true,
    body: async (maxBytes, tooLarge) => {
      if (body.length > maxBytes) throw tooLarge();
      return body;
    },
  };
}

/** `more` added to `into` under lower-case names (what `writeHead` does to headers set before). */
function withHeaders(into: Record<string, string>, more: OutgoingHttpHeaders): Record<string, string> {
  for (const [k, v] of Object.entries(more)) if (v !== undefined) into[k.toLowerCase()] = String(v);
  return into;
}

/**
 * A reply whose body is a stream in the same process: `onHead` is told the status and headers
 * when they are written; the body's bytes follow on `body` as they are written.
 */
export function streamedReply(body: PassThrough, onHead: (status: number, headers: Record<string, string>) => void): LocalHttpReply {
  const pending: Record<string, string> = {};
  let headersSent = false;
  const reply: LocalHttpReply = {
    get headersSent() {
      return headersSent;
    },
    get destroyed() {
      return body.destroyed;
    },
    setHeader: (name, value) => {
      pending[name.toLowerCase()] = value;
    },
    writeHead: (status, more) => {
      headersSent = true;
      onHead(status, withHeaders({ ...pending }, more));
    },
    write: (chunk) => (body.destroyed ? true : body.write(chunk)),
    end: (chunk) => {
      if (!body.destroyed) body.end(chunk);
    },
    destroy: () => body.destroy(new Error("the server cut the response")),
    once: (event, listener) => body.once(event, listener),
  };
  return reply;
}

/** A reply read whole by its caller: `abandon` is the caller giving up (its timeout, an abort). */
export interface BufferedReply extends LocalHttpReply {
  abandon(): void;
}

/**
 * A reply whose caller wants the body whole (a buffered call in the same process): `onDone` gets
 * the status, headers and body once the server ends it, with no stream in between; `onCut` is
 * told if the server cuts it first. Writes never wait: there is no reader to fall behind.
 */
export function bufferedReply(
  onDone: (status: number, headers: Record<string, string>, body: Buffer) => void,
  onCut: (err: Error) => void,
): BufferedReply {
  const headers: Record<string, string> = {};
  const chunks: Buffer[] = [];
  let status = 200;
  let headersSent = false;
  let over = false;
  const closeListeners: (() => void)[] = [];
  const close = () => {
    over = true;
    for (const listener of closeListeners.splice(0)) listener();
  };
  const add = (chunk: Uint8Array | string) =>
    chunks.push(
      typeof chunk === "string"
        ? Buffer.from(chunk, "utf8")
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  return {
    get headersSent() {
      return headersSent;
    },
    get destroyed() {
      return over;
    },
    setHeader: (name, value) => {
      headers[name.toLowerCase()] = value;
    },
    writeHead: (code, more) => {
      headersSent = true;
      status = code;
      withHeaders(headers, more);
    },
    write: (chunk) => {
      if (!over) add(chunk);
      return true;
    },
    end: (chunk) => {
      if (over) return;
      headersSent = true;
      if (chunk !== undefined) add(chunk);
      close();
      onDone(status, headers, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    },
    destroy: () => {
      if (over) return;
      close();
      onCut(new Error("the server cut the response"));
    },
    once: (event, listener) => {
      if (event === "close") {
        if (over) queueMicrotask(listener);
        else closeListeners.push(listener);
      }
      return undefined;
    },
    abandon: () => {
      if (!over) close();
    },
  };
}
