import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "../read-body";

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
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(body === undefined ? "" : JSON.stringify(body));
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

  const server = createServer(async (req, res) => {
    const m = INVOKE_PATH.exec(new URL(req.url ?? "/", "http://local").pathname);
    if (req.method !== "POST" || !m?.[1]) return reply(res, 404, { Type: "User", message: "Unknown operation" });
    const name = decodeURIComponent(m[1]).split(":").pop() ?? "";
    const fn = opts.functions[name];
    if (!fn) {
      return reply(res, 404, { Type: "User", message: `Function not found: ${name}` }, { "x-amzn-errortype": "ResourceNotFoundException" });
    }
    let event: unknown;
    try {
      // No cap of its own: the gateway and the handlers have already bounded what they pass on.
      const text = (await readBody(req)).toString("utf8");
      event = text ? JSON.parse(text) : {};
    } catch {
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
  });
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
