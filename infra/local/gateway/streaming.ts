import type { ServerResponse } from "node:http";
import { Writable } from "node:stream";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { HTTP_INTEGRATION_RESPONSE, STREAMING_HANDLER, STREAMING_RESPONSE } from "../lambda-runtime/awslambda-global";
import { holdUntilTurnEnds } from "./turn-writes";

/**
 * A handler wrapped in `awslambda.streamifyResponse`: it writes its answer to `responseStream`,
 * a Writable with `setContentType` (typed as @types/aws-lambda's HttpResponseStream, so that
 * what `awslambda.streamifyResponse` returns is one of these).
 */
export type StreamingProxyHandler = (
  event: APIGatewayProxyEvent,
  responseStream: awslambda.HttpResponseStream,
  context: Context,
  // What awslambda.streamifyResponse's type allows; the gateway awaits either.
) => Promise<void> | void;

export function isStreamingHandler(handler: unknown): handler is StreamingProxyHandler {
  return typeof handler === "function" && (handler as unknown as Record<symbol, unknown>)[STREAMING_HANDLER] === STREAMING_RESPONSE;
}

/** How a streamed invocation ended, for the access log and the gateway's own error answers. */
export type StreamOutcome =
  /** `bytes`: the body bytes that reached the client (the access log's responseLength). */
  | { readonly kind: "sent"; readonly status: number; readonly bytes: number }
  /** The client left before any status was sent. */
  | { readonly kind: "client-gone" }
  /**
   * Nothing reached the client: the gateway answers with an error of its own. After a timeout
   * the handler may still run; `settled` resolves when it is done.
   */
  | { readonly kind: "nothing-sent"; readonly reason: "threw" | "timeout"; readonly settled: Promise<void> };

const DELIMITER = Buffer.alloc(8);
/** A prelude bigger than this is not a prelude (API Gateway's own cap on response headers is lower). */
const MAX_PRELUDE_BYTES = 64 * 1024;

interface Prelude {
  readonly statusCode?: number;
  readonly headers?: Record<string, string>;
  readonly cookies?: readonly string[];
}

/**
 * The Writable a streaming handler gets, as Lambda's Node.js runtime gives it: `setContentType`,
 * and `_onBeforeFirstWrite`, the hook `awslambda.HttpResponseStream.from` installs to put its
 * prelude (JSON, then 8 NUL bytes) in front of the body. Bytes are handed to `sink` as they are
 * written, with the sink's backpressure.
 */
class LambdaResponseStream extends Writable {
  contentType: string | undefined;
  _onBeforeFirstWrite: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  private started = false;

  constructor(private readonly sink: (chunk: Buffer, done: (err?: Error | null) => void) => void) {
    super();
  }

  setContentType(type: string): void {
    this.contentType = type;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this._onBeforeFirstWrite?.((chunk) => this.sink(Buffer.from(chunk), () => undefined));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.start();
    this.sink(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    // A handler that only sets a prelude and ends still sends its status and headers.
    this.start();
    done();
  }
}

export interface StreamInvocation {
  readonly handler: StreamingProxyHandler;
  readonly event: APIGatewayProxyEvent;
  readonly context: Context;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly timeoutMs: number;
}

/**
 * Runs a streaming handler against one HTTP response the way API Gateway's response streaming
 * relays a Lambda function: the prelude becomes the status and headers, every later write goes
 * to the client at once (chunked, no content-length). A client that goes away, or the
 * integration timeout, destroys the handler's stream (it sees 'close'; writes then fail), but
 * the handler is awaited to its end: it may still have usage to record.
 */
export async function runStreamingHandler(inv: StreamInvocation): Promise<StreamOutcome> {
  const { res } = inv;
  let prelude: Buffer | undefined;
  let status: number | undefined;
  let bytes = 0;

  const sendHead = (p: Prelude, contentType: string | undefined) => {
    status = typeof p.statusCode === "number" && p.statusCode >= 100 && p.statusCode <= 599 ? p.statusCode : 200;
    const headers: Record<string, string | string[]> = { "x-amzn-requestid": inv.requestId };
    for (const [k, v] of Object.entries(p.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (p.cookies?.length) headers["set-cookie"] = [...p.cookies];
    headers["content-type"] ??= contentType ?? "application/octet-stream";
    delete headers["content-length"];
    res.writeHead(status, headers);
    res.flushHeaders();
  };

  const toClient = (chunk: Buffer, done: (err?: Error | null) => void) => {
    if (res.destroyed || chunk.length === 0) return done();
    bytes += chunk.length;
    if (res.socket) holdUntilTurnEnds(res.socket);
    if (res.write(chunk)) return done();
    const resume = () => {
      res.off("drain", resume).off("close", resume);
      done();
    };
    res.on("drain", resume).on("close", resume);
  };

  const sink = (chunk: Buffer, done: (err?: Error | null) => void) => {
    if (status !== undefined) return toClient(chunk, done);
    if (stream.contentType !== HTTP_INTEGRATION_RESPONSE) {
      sendHead({}, stream.contentType);
      return toClient(chunk, done);
    }
    prelude = prelude ? Buffer.concat([prelude, chunk]) : chunk;
    const end = prelude.indexOf(DELIMITER);
    if (end < 0) {
      if (prelude.length > MAX_PRELUDE_BYTES) return done(new Error("response prelude without its 8-byte delimiter"));
      return done();
    }
    let parsed: Prelude;
    try {
      parsed = JSON.parse(prelude.subarray(0, end).toString("utf8")) as Prelude;
    } catch {
      return done(new Error("response prelude is not JSON"));
    }
    const rest = prelude.subarray(end + DELIMITER.length);
    prelude = undefined;
    sendHead(parsed ?? {}, undefined);
    toClient(rest, done);
  };

  const stream = new LambdaResponseStream(sink);
  // A failed write (bad prelude) ends the stream; the handler sees 'close', nothing throws.
  stream.on("error", () => undefined);
  const abandon = () => {
    if (!stream.destroyed) stream.destroy();
  };
  res.once("close", abandon);

  const settled = (async () => {
    // The runtime's stream is what `awslambda.HttpResponseStream` types: a Writable with setContentType.
    await inv.handler(inv.event, stream as unknown as awslambda.HttpResponseStream, inv.context);
    // Returning without end(): the runtime ends the stream for the handler.
    if (!stream.writableEnded && !stream.destroyed) await new Promise<void>((resolve) => stream.end(resolve));
    else if (!stream.writableFinished && !stream.destroyed)
      await new Promise<void>((resolve) => stream.once("finish", resolve).once("close", resolve));
  })();
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    settled.then(
      () => "done" as const,
      () => "threw" as const,
    ),
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), inv.timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  const handlerEnd = settled.catch(() => undefined);

  if (first === "timeout") {
    abandon();
    if (status === undefined && !res.destroyed) return { kind: "nothing-sent", reason: "timeout", settled: handlerEnd };
  }
  const failed = first !== "done" || stream.errored !== null || prelude !== undefined;
  if (status === undefined) {
    if (res.destroyed) return { kind: "client-gone" };
    if (failed) return { kind: "nothing-sent", reason: "threw", settled: handlerEnd };
    sendHead({}, stream.contentType);
  }
  // Headers are gone: a failed stream can only be signalled by cutting the connection.
  if (failed) res.destroy();
  else res.end();
  await handlerEnd;
  return { kind: "sent", status: status ?? 200, bytes };
}

/** A Lambda context for a locally run function; the deadline is the integration timeout. */
export function lambdaContext(functionName: string, requestId: string, deadline: number): Context {
  const unsupported = () => {
    throw new Error("the callback-style context methods are not supported here");
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? "us-east-1"}:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
