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
      const all: Record<string, string> = { ...pending };
      for (const [k, v] of Object.entries(more)) if (v !== undefined) all[k.toLowerCase()] = String(v);
      onHead(status, all);
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
