import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { guardListener, listenerOptions, parseRequestTarget, tryDecodeURIComponent } from "../http-guard";

/** A Lambda handler export as the local host calls it: event in, result out. */
export type LocalFunction = (event: unknown) => Promise<unknown>;

export interface LambdaEmulator {
  readonly url: string;
  /** Resolves when every queued asynchronous invocation has finished (tests, shutdown). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface LambdaEmulatorOptions {
  readonly functions: Readonly<Record<string, LocalFunction>>;
  readonly host?: string;
  /** Asynchronous invocations run at most this many at a time, like a reserved concurrency. @default 8 */
  readonly concurrency?: number;
  /** Told about an asynchronous invocation that failed all its attempts. */
  readonly onAsyncFailure?: (functionName: string, err: unknown) => void;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** Lambda retries a failed asynchronous invocation twice. */
const ASYNC_ATTEMPTS = 3;

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

class PayloadTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) throw new PayloadTooLarge();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

/**
 * The Lambda `Invoke` API (`POST /2015-03-31/functions/{name}/invocations`) for the handler
 * exports the local host runs, so code that invokes a function through the SDK (the shadow
 * dispatcher) does so unchanged. `Event` invocations answer 202 at once and run in the
 * background with Lambda's two retries; `RequestResponse` ones answer with the result.
 */
export async function startLambdaEmulator(opts: LambdaEmulatorOptions): Promise<LambdaEmulator> {
  const limit = opts.concurrency ?? 8;
  const queue: Array<() => Promise<void>> = [];
  const idle: Array<() => void> = [];
  let running = 0;

  const pump = () => {
    while (running < limit && queue.length > 0) {
      const job = queue.shift();
      if (!job) break;
      running++;
      void job().finally(() => {
        running--;
        pump();
        if (running === 0 && queue.length === 0) for (const resolve of idle.splice(0)) resolve();
      });
    }
  };

  const runAsync = (name: string, fn: LocalFunction, event: unknown) => {
    queue.push(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await fn(event);
          return;
        } catch (err) {
          if (attempt >= ASYNC_ATTEMPTS) {
            opts.onAsyncFailure?.(name, err);
            return;
          }
        }
      }
    });
    pump();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const m = INVOKE_PATH.exec(parseRequestTarget(req.url)?.pathname ?? "");
    if (req.method !== "POST" || !m?.[1]) return reply(res, 404, { Type: "User", message: "Unknown operation" });
    const decoded = tryDecodeURIComponent(m[1]);
    if (decoded === undefined) {
      return reply(res, 400, { Type: "User", message: "Invalid function name" }, { "x-amzn-errortype": "InvalidParameterValueException" });
    }
    const name = decoded.split(":").pop() ?? "";
    const fn = opts.functions[name];
    if (!fn) {
      return reply(res, 404, { Type: "User", message: `Function not found: ${name}` }, { "x-amzn-errortype": "ResourceNotFoundException" });
    }
    let event: unknown;
    try {
      const text = await readBody(req);
      event = text ? JSON.parse(text) : {};
    } catch (err) {
      if (err instanceof PayloadTooLarge) {
        res.setHeader("connection", "close");
        return reply(
          res,
          413,
          { Type: "User", message: `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation` },
          { "x-amzn-errortype": "RequestTooLargeException" },
        );
      }
      return reply(
        res,
        400,
        { Type: "User", message: "Could not parse request body into json" },
        { "x-amzn-errortype": "InvalidRequestContentException" },
      );
    }
    if (req.headers["x-amz-invocation-type"] === "Event") {
      runAsync(name, fn, event);
      return reply(res, 202, undefined);
    }
    try {
      return reply(res, 200, (await fn(event)) ?? null);
    } catch (err) {
      return reply(
        res,
        200,
        { errorType: (err as Error).name ?? "Error", errorMessage: (err as Error).message },
        { "x-amz-function-error": "Unhandled" },
      );
    }
  };
  const server = createServer(listenerOptions(), (req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Only a failure of this emulator itself gets here; the caller sees Lambda's ServiceException.
      console.error(`lambda emulator: ${(err as Error)?.stack ?? String(err)}`);
      if (res.headersSent) return void res.destroy();
      reply(res, 500, { Type: "Service", message: "internal error" }, { "x-amzn-errortype": "ServiceException" });
    });
  });
  guardListener(server, (status, message) => ({
    body: JSON.stringify({ Type: "User", message }),
    headers: { "x-amzn-errortype": status === 408 ? "RequestTimeoutException" : "InvalidRequestContentException" },
  }));
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const drain = () => (running === 0 && queue.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve)));
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    drain,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.race([drain(), new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}
