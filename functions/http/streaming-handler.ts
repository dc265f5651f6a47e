import type { Writable } from "node:stream";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import type { HandlerName, RouteMap } from "../contract/routes";
import { type HttpResponse, NotFoundError } from "../core/errors";
import { requestIdOf } from "./event";
import type { LogFields } from "./handler";
import { logger } from "./logger";

/**
 * The one streaming handler shape both hosts run: Lambda's response streaming
 * (`awslambda.streamifyResponse`) behind API Gateway's STREAM integrations in the cloud, the
 * local gateway's emulation of the same runtime locally.
 */
export type StreamingLambdaHandler = (
  event: APIGatewayProxyEvent,
  responseStream: awslambda.HttpResponseStream,
  context: Context,
) => Promise<void>;

/** A response written in pieces: status and headers first, then the body as it is produced. */
export interface HttpStream {
  /** Sends status and headers (through `awslambda.HttpResponseStream`); once. */
  start(statusCode: number, headers: Readonly<Record<string, string>>): void;
  /** Sends a piece now. Dropped once the client has gone: the handler goes on (and bills). */
  write(chunk: string): void;
  readonly started: boolean;
  /** Whether the client went away before the end. */
  readonly clientGone: boolean;
}

export type StreamingRoute = (event: APIGatewayProxyEvent, res: HttpStream, log: LogFields) => Promise<void>;

/**
 * Wraps streaming routes like `httpHandler` wraps buffered ones: dispatch on `METHOD resource`,
 * one log line per request, and errors as responses. An error before the first byte is an
 * ordinary HTTP error (`errorResponse`); one after it is `midStreamError`'s last piece.
 */
export function streamingHttpHandler<H extends HandlerName>(
  routes: RouteMap<H, StreamingRoute>,
  errors: {
    readonly response: (err: unknown, requestId: string) => HttpResponse;
    readonly midStream: (err: unknown, requestId: string) => string;
  },
): StreamingLambdaHandler {
  return async (event, responseStream) => {
    const startedAt = Date.now();
    const requestId = requestIdOf(event);
    const log: LogFields = { requestId, route: `${event.httpMethod} ${event.resource}` };
    const res = new LambdaHttpStream(responseStream);
    try {
      const route = (routes as Readonly<Record<string, StreamingRoute | undefined>>)[`${event.httpMethod} ${event.resource}`];
      if (!route) throw new NotFoundError(`no route for ${event.httpMethod} ${event.path}`);
      await route(event, res, log);
    } catch (err) {
      if (res.started) {
        res.write(errors.midStream(err, requestId));
      } else {
        const out = errors.response(err, requestId);
        res.start(out.statusCode, out.headers);
        res.write(out.body);
      }
      const status = res.status;
      if (status >= 500) logger.error("request failed", { ...log, error: err as Error });
    }
    res.end();
    logger.info("request", { ...log, status: res.status, clientGone: res.clientGone, latencyMs: Date.now() - startedAt });
  };
}

class LambdaHttpStream implements HttpStream {
  private body: Writable | undefined;
  private gone = false;
  status = 200;

  constructor(private readonly responseStream: Writable) {
    // A client that disconnects closes (or errors) the stream Lambda handed us.
    const leave = () => {
      if (!this.responseStream.writableFinished) this.gone = true;
    };
    responseStream.on("close", leave);
    responseStream.on("error", leave);
  }

  get started(): boolean {
    return this.body !== undefined;
  }

  get clientGone(): boolean {
    return this.gone;
  }

  start(statusCode: number, headers: Readonly<Record<string, string>>): void {
    if (this.body) throw new Error("response already started");
    this.status = statusCode;
    this.body = awslambda.HttpResponseStream.from(this.responseStream, { statusCode, headers });
  }

  write(chunk: string): void {
    if (!this.body) this.start(200, {});
    if (this.gone || this.responseStream.destroyed) return;
    try {
      this.body?.write(chunk);
    } catch {
      this.gone = true;
    }
  }

  end(): void {
    if (!this.body) this.start(this.status, {});
    if (!this.responseStream.destroyed && !this.responseStream.writableEnded) this.body?.end();
  }
}
