import type { IncomingHttpHeaders } from "node:http";
import { PassThrough } from "node:stream";
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from "@smithy/types";
import { bufferedReply, inMemoryRequest, type LocalHttpRequest, type LocalServe, streamedReply } from "../in-process-http";

/**
 * The SDK's request handler (what NodeHttpHandler is over a socket) that calls the emulator in
 * the same process: the request the SDK serialized and signed goes in as it is, and the
 * response comes back as a status, headers and a body the SDK parses as it would a socket's: a
 * streamed call's event-stream frames as they are written, a buffered call's body whole (bytes,
 * which the SDK's body collector takes as they are, as it does in a browser).
 */
export class InProcessHttpHandler implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  constructor(private readonly serve: LocalServe) {}

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(request.query ?? {})) for (const one of [v ?? ""].flat()) if (one !== null) query.append(k, one);
    const search = query.size > 0 ? `?${query}` : "";
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
    const call = inMemoryRequest(request.method, `${request.path}${search}`, headers, toBuffer(request.body));
    if (!request.path.endsWith(STREAMED_PATH)) return this.whole(call, options);
    return new Promise((resolve, reject) => {
      if (options.abortSignal?.aborted) return reject(abortError());
      const out = new PassThrough();
      let answered = false;
      const reply = streamedReply(out, (statusCode, all) => {
        answered = true;
        resolve({ response: { statusCode, headers: all, body: out } });
      });
      // An SDK call that gives up (its timeout, say) stops reading, as a closed socket would.
      (options.abortSignal as AbortSignal | undefined)?.addEventListener("abort", () => {
        if (!answered) reject(abortError());
        out.destroy();
      });
      this.serve(call, reply).catch((err: unknown) => {
        if (!answered) reject(err);
        else out.destroy(err as Error);
      });
    });
  }

  /** A buffered call (InvokeEndpoint): the emulator's reply handed to the SDK once it has ended. */
  private whole(call: LocalHttpRequest, options: HttpHandlerOptions): Promise<{ response: HttpResponse }> {
    return new Promise((resolve, reject) => {
      if (options.abortSignal?.aborted) return reject(abortError());
      const reply = bufferedReply((statusCode, all, body) => resolve({ response: { statusCode, headers: all, body } }), reject);
      (options.abortSignal as AbortSignal | undefined)?.addEventListener("abort", () => {
        reply.abandon();
        reject(abortError());
      });
      this.serve(call, reply).catch(reject);
    });
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
}

/** InvokeEndpointWithResponseStream's path: the one call answered as a stream. */
const STREAMED_PATH = "/invocations-response-stream";

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
