import { Writable } from "node:stream";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { ROUTES, type RouteDefinition } from "../../functions/contract/routes";
import type { Principal } from "../../functions/core/principal";
import { principalToContext } from "../../functions/core/principal";
import type { StreamingLambdaHandler } from "../../functions/http/streaming-handler";
import { type IncomingRequest, proxyEvent } from "../../infra/local/gateway/events";
import { Router } from "../../infra/local/gateway/router";
import { lambdaContext } from "../../infra/local/gateway/streaming";
import { HTTP_INTEGRATION_RESPONSE, installAwsLambdaGlobal } from "../../infra/local/lambda-runtime/awslambda-global";

/** What a test says about a request; everything else is filled in as the local gateway would. */
export interface RequestInit {
  readonly headers?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  /** A JSON body, sent as `application/json` unless `headers` name another type. */
  readonly json?: unknown;
  /** A raw body (a string as is, bytes as they are). */
  readonly body?: string | Uint8Array;
  /** The authorizer's verdict, as its context; without one (and without `authorizer`) there is none. */
  readonly as?: Principal;
  /** A raw authorizer context, for requests a real authorizer would never let through. */
  readonly authorizer?: Record<string, unknown> | null;
  /** The verified IAM principal of an admin call (what SigV4 gives API Gateway). */
  readonly adminArn?: string;
  readonly requestId?: string;
  /** Epoch ms the gateway received the request (`requestTimeEpoch`). */
  readonly receivedAt?: number;
}

export const ADMIN_ARN = "arn:aws:iam::000000000000:user/handler-test-admin";

const router = new Router(ROUTES);
let sequence = 0;

/** The route of `METHOD /path` in the shared table; a path that matches none is a broken test. */
export function routeOf(method: string, path: string): { route: RouteDefinition; pathParameters: Record<string, string> } {
  const m = router.match(method, path);
  if (!m || "methodMismatch" in m) throw new Error(`no route in ROUTES for ${method} ${path}`);
  return m;
}

/** The request as the local gateway knows it before it becomes an event (the authorizer's input too). */
export function incoming(method: string, path: string, init: RequestInit = {}): IncomingRequest {
  const { route, pathParameters } = routeOf(method, path);
  const body = init.json !== undefined ? JSON.stringify(init.json) : (init.body ?? "");
  const headers: Record<string, string> = {
    host: "127.0.0.1",
    ...(init.json !== undefined ? { "content-type": "application/json" } : {}),
    ...Object.fromEntries(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  return {
    requestId: init.requestId ?? `req-${++sequence}`,
    receivedAt: init.receivedAt ?? Date.now(),
    method,
    path,
    query: new URLSearchParams(init.query ?? {}),
    headers,
    body: Buffer.from(body),
    sourceIp: "127.0.0.1",
    route,
    pathParameters,
  };
}

/** A REST API v1 proxy event, built by the local gateway's own builder, with the authorizer's context. */
export function proxyRequest(
  method: string,
  path: string,
  init: RequestInit = {},
): { route: RouteDefinition; event: APIGatewayProxyEvent } {
  const req = incoming(method, path, init);
  const authorizer =
    init.authorizer !== undefined
      ? init.authorizer
      : init.as
        ? { ...principalToContext(init.as), principalId: `${init.as.tenantId}/${init.as.keyId}` }
        : null;
  return { route: req.route, event: proxyEvent(req, authorizer, init.adminArn ? { userArn: init.adminArn, caller: "AIDALOCAL" } : {}) };
}

/** A handler's answer, read the way a client reads it. */
export interface TestResponse {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly bytes: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: a body is whatever the test asserts it is; assertions check it.
  json<T = Record<string, any>>(): T;
}

export function toResponse(result: APIGatewayProxyResult): TestResponse {
  const bytes = Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { status: result.statusCode, headers, text: bytes.toString("utf8"), bytes, json: () => JSON.parse(bytes.toString("utf8")) };
}

/**
 * The response stream Lambda's Node.js runtime hands a streaming handler, kept in memory:
 * `awslambda.HttpResponseStream.from` puts its prelude (JSON status and headers, then 8 NUL
 * bytes) through `_onBeforeFirstWrite`; each write is kept as the piece it was.
 */
class MemoryResponseStream extends Writable {
  contentType: string | undefined;
  _onBeforeFirstWrite: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  readonly pieces: Buffer[] = [];
  private started = false;

  setContentType(type: string): void {
    this.contentType = type;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    if (!this.started) {
      this.started = true;
      this._onBeforeFirstWrite?.((c) => this.pieces.push(Buffer.from(c)));
    }
    this.pieces.push(Buffer.from(chunk));
    done();
  }
}

/** A streamed response as a client sees it, and the body pieces in the order they were written. */
export interface StreamedTestResponse extends TestResponse {
  readonly pieces: readonly string[];
}

/** Runs a streaming handler (`awslambda.streamifyResponse` shape) to its end and reads the prelude back. */
export async function callStreaming(handler: StreamingLambdaHandler, event: APIGatewayProxyEvent): Promise<StreamedTestResponse> {
  installAwsLambdaGlobal();
  const stream = new MemoryResponseStream();
  const finished = new Promise<void>((resolve) => stream.once("finish", resolve));
  const context = lambdaContext("llm", event.requestContext.requestId, Date.now() + 60_000);
  await handler(event, stream as unknown as awslambda.HttpResponseStream, context);
  if (!stream.writableEnded) stream.end();
  await finished;
  const all = Buffer.concat(stream.pieces);
  const cut = stream.contentType === HTTP_INTEGRATION_RESPONSE ? all.indexOf(Buffer.alloc(8)) : -1;
  const prelude = (cut >= 0 ? JSON.parse(all.subarray(0, cut).toString("utf8")) : {}) as {
    statusCode?: number;
    headers?: Record<string, string>;
  };
  const pieces = cut >= 0 ? stream.pieces.slice(2).map((p) => p.toString("utf8")) : stream.pieces.map((p) => p.toString("utf8"));
  const response = toResponse({
    statusCode: prelude.statusCode ?? 200,
    headers: prelude.headers ?? {},
    body: all.subarray(cut >= 0 ? cut + 8 : 0).toString("utf8"),
  });
  return { ...response, pieces };
}
