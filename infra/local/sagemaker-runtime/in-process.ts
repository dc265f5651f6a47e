import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { PassThrough } from "node:stream";
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from "@smithy/types";
import { readBody } from "../read-body";

/** A call as the emulator reads it, from a socket or from an SDK client in the same process. */
export interface EmulatorRequest {
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

/** How the emulator answers: the subset of node:http's ServerResponse it uses. */
export interface EmulatorReply {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): void;
  writeHead(status: number, headers: OutgoingHttpHeaders): void;
  write(chunk: Uint8Array): void;
  end(chunk?: Uint8Array | string): void;
  destroy(): void;
}

export function fromNodeRequest(req: IncomingMessage): EmulatorRequest {
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

type Serve = (req: EmulatorRequest, res: EmulatorReply) => Promise<void>;

/**
 * The SDK's request handler (what NodeHttpHandler is over a socket) that calls the emulator in
 * the same process: the request the SDK serialized and signed goes in as it is, and the
 * response comes back as a status, headers and a body stream that the SDK parses as it would a
 * socket's (a streamed call's event-stream frames as they are written).
 */
export class InProcessHttpHandler implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  constructor(private readonly serve: Serve) {}

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(request.query ?? {})) for (const one of [v ?? ""].flat()) if (one !== null) query.append(k, one);
    const search = query.size > 0 ? `?${query}` : "";
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
    const body = toBuffer(request.body);
    const call: EmulatorRequest = {
      method: request.method,
      url: `${request.path}${search}`,
      headers,
      complete: true,
      body: async (maxBytes, tooLarge) => {
        if (body.length > maxBytes) throw tooLarge();
        return body;
      },
    };
    return new Promise((resolve, reject) => {
      if (options.abortSignal?.aborted) return reject(abortError());
      const out = new PassThrough();
      const pending: Record<string, string> = {};
      let headersSent = false;
      const reply: EmulatorReply = {
        get headersSent() {
          return headersSent;
        },
        setHeader: (name, value) => {
          pending[name.toLowerCase()] = value;
        },
        writeHead: (status, more) => {
          headersSent = true;
          const all: Record<string, string> = { ...pending };
          for (const [k, v] of Object.entries(more)) if (v !== undefined) all[k.toLowerCase()] = String(v);
          resolve({ response: { statusCode: status, headers: all, body: out } });
        },
        write: (chunk) => {
          if (!out.destroyed) out.write(chunk);
        },
        end: (chunk) => {
          if (!out.destroyed) out.end(chunk);
        },
        destroy: () => out.destroy(new Error("the emulator cut the response")),
      };
      // An SDK call that gives up (its timeout, say) stops reading, as a closed socket would.
      (options.abortSignal as AbortSignal | undefined)?.addEventListener("abort", () => {
        if (!headersSent) reject(abortError());
        out.destroy();
      });
      this.serve(call, reply).catch((err: unknown) => {
        if (!headersSent) reject(err);
        else out.destroy(err as Error);
      });
    });
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
}

function toBuffer(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError("the in-process SageMaker handler takes string or byte bodies only");
}

function abortError(): Error {
  const err = new Error("Request aborted");
  err.name = "AbortError";
  return err;
}
