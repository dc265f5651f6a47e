import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import type { HandlerName, RouteDefinition } from "../../../functions/contract/routes";
import { errorBody } from "../../../functions/core/errors";
import { guardListener, type ListenerLimits, lingerOnClose, listenerOptions, parseRequestTarget } from "../http-guard";
import { readBody } from "../read-body";
import type { AccessLogLine, AccessLogWriter } from "./access-log-file";
import { type AuthorizerHandler, AuthorizerRunner } from "./authorizer-runner";
import { consoleResponse, isConsolePath } from "./console-site";
import { type IncomingRequest, proxyEvent } from "./events";
import { Router } from "./router";
import { type AdminCredential, checkSigV4Header, SignatureReplayGuard, verifySigV4 } from "./sigv4";
import { isStreamingHandler, lambdaContext, runStreamingHandler, type StreamingProxyHandler } from "./streaming";
import { TokenBucket } from "./throttle";

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
export type { StreamingProxyHandler } from "./streaming";

export interface GatewayOptions {
  readonly host?: string;
  readonly port?: number;
  readonly routes: readonly RouteDefinition[];
  /** A buffered (proxy) or streaming (`awslambda.streamifyResponse`) handler per handler name. */
  readonly handlers: Readonly<Partial<Record<HandlerName, ProxyHandler | StreamingProxyHandler>>>;
  readonly authorizer: AuthorizerHandler;
  readonly authorizerCacheTtlSeconds: number;
  readonly admin: AdminCredential;
  readonly rateLimitPerSecond: number;
  readonly burstLimit: number;
  /** API Gateway's own payload limit. @default 10 MiB */
  readonly maxPayloadBytes?: number;
  /** Slow-client fences of the listener (see guardListener). */
  readonly limits?: ListenerLimits;
  /**
   * The stage's access log (./access-log-file.ts): one line per request in the cloud stage's
   * format, and a note before each handler call, so a request whose process died is logged too.
   */
  readonly accessLog?: AccessLogWriter;
  /**
   * The console's build folder, served at `/console` (./console-site.ts), as CloudFront serves
   * it in the cloud. @default none: `/console` is an unknown path like any other
   */
  readonly consoleDir?: string;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

class GatewayResponse {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly message: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

const ADMIN_IDENTITY = "arn:aws:iam::000000000000:user/modelgate-local-admin";

/**
 * The local API Gateway: a REST API stage in front of the same handler exports Lambda runs.
 * It builds real v1 proxy and REQUEST-authorizer events, caches authorizer results by
 * identity source, verifies SigV4 on IAM routes, throttles like a stage, and answers its own
 * refusals in the handlers' JSON error shape (the cloud's gateway responses do the same).
 */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const router = new Router(opts.routes);
  const runner = new AuthorizerRunner(opts.authorizer, opts.authorizerCacheTtlSeconds);
  const bucket = new TokenBucket(opts.rateLimitPerSecond, opts.burstLimit);
  const replays = new SignatureReplayGuard();
  const maxPayload = opts.maxPayloadBytes ?? 10 * 1024 * 1024;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const receivedAt = Date.now();
    let path = req.url ?? "";
    let tenantId: string | undefined;
    let keyId: string | undefined;
    let resourcePath: string | undefined;
    let iamUser: string | undefined;
    let integrationStart: number | undefined;
    /** The request's fields as the begin note had them: the final line reuses them. */
    let begun: Record<string, string | number> | undefined;
    /** The fields known before the response: what a begin note and the final line share. */
    const requestFields = (): Record<string, string | number> => ({
      requestId,
      requestTime: clfTime(receivedAt),
      requestTimeEpoch: receivedAt,
      ip: req.socket.remoteAddress ?? "127.0.0.1",
      ...(req.headers["user-agent"] ? { userAgent: req.headers["user-agent"] } : {}),
      httpMethod: req.method ?? "",
      ...(resourcePath ? { resourcePath } : {}),
      path,
      protocol: `HTTP/${req.httpVersion}`,
      ...(tenantId ? { tenantId } : {}),
      ...(keyId ? { keyId } : {}),
      ...(iamUser ? { iamUser } : {}),
    });
    const logAccess = (status: number, more: { responseLength?: number; errorMessage?: string } = {}) => {
      const now = Date.now();
      const line: AccessLogLine = {
        ...(begun ?? requestFields()),
        status,
        ...(more.responseLength !== undefined ? { responseLength: more.responseLength } : {}),
        responseLatency: now - receivedAt,
        ...(integrationStart !== undefined ? { integrationLatency: now - integrationStart } : {}),
        ...(more.errorMessage ? { errorMessage: more.errorMessage } : {}),
      };
      opts.accessLog?.end(line);
    };
    const finish = (result: APIGatewayProxyResult, errorMessage?: string) => {
      const responseLength = writeResult(res, requestId, result);
      logAccess(result.statusCode, { responseLength, ...(errorMessage ? { errorMessage } : {}) });
    };
    try {
      const url = parseRequestTarget(req.url);
      if (!url) throw new GatewayResponse(400, "bad_request", "malformed request target");
      path = url.pathname;
      const method = req.method ?? "GET";
      if (opts.consoleDir && isConsolePath(url.pathname)) {
        const site = await consoleResponse(opts.consoleDir, method, url.pathname);
        res.writeHead(site.status, { ...site.headers, "content-length": String(site.body.length) });
        res.end(method === "HEAD" ? undefined : site.body);
        return;
      }
      const match = router.match(method, url.pathname);
      // API Gateway answers a path or method it has no resource for with MISSING_AUTHENTICATION_TOKEN
      // (403), the same response an unsigned admin call gets; the cloud's gateway responses
      // give it the JSON error shape, as here.
      if (!match || "methodMismatch" in match) throw new GatewayResponse(403, "forbidden", "Missing Authentication Token");
      resourcePath = match.route.path;
      const slot = bucket.take();
      if (!slot.ok) throw new GatewayResponse(429, "rate_limited", "Too Many Requests", { "retry-after": String(slot.retryAfterSeconds) });
      // Routing, throttling and authentication come before the body is read: a request refused
      // here costs its headers only, however large a body it announces.
      const incoming: IncomingRequest = {
        requestId,
        receivedAt,
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: EMPTY,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        route: match.route,
        pathParameters: match.pathParameters,
      };

      let event: APIGatewayProxyEvent;
      if (match.route.auth === "apiKey") {
        const outcome = await runner.authorize(incoming);
        if (outcome.kind === "unauthorized") throw new GatewayResponse(401, "unauthorized", "Unauthorized");
        if (outcome.kind === "denied") throw new GatewayResponse(403, "forbidden", "User is not authorized to access this resource");
        if (outcome.kind === "error")
          throw new GatewayResponse(503, "service_unavailable", "the authorizer failed; retry shortly", { "retry-after": "1" });
        tenantId = typeof outcome.context.tenantId === "string" ? outcome.context.tenantId : undefined;
        keyId = typeof outcome.context.keyId === "string" ? outcome.context.keyId : undefined;
        event = proxyEvent(
          { ...incoming, body: await readBody(req, { maxBytes: maxPayload, tooLarge: () => payloadTooLarge(maxPayload) }) },
          outcome.context,
        );
      } else if (match.route.auth === "iam") {
        // The signature covers the body, so it is checked once the body is in; the header alone
        // (form, key id, date) is checked before reading it.
        const early = checkSigV4Header(incoming, opts.admin);
        if (!early.ok) throw new GatewayResponse(403, "forbidden", `admin routes need a valid SigV4 signature: ${early.reason}`);
        const withBody = { ...incoming, body: await readBody(req, { maxBytes: maxPayload, tooLarge: () => payloadTooLarge(maxPayload) }) };
        const verdict = await verifySigV4(withBody, opts.admin, Date.now(), replays);
        if (!verdict.ok) throw new GatewayResponse(403, "forbidden", `admin routes need a valid SigV4 signature: ${verdict.reason}`);
        iamUser = ADMIN_IDENTITY;
        event = proxyEvent(withBody, null, {
          userArn: ADMIN_IDENTITY,
          caller: verdict.accessKeyId,
          accessKey: verdict.accessKeyId,
          user: verdict.accessKeyId,
        });
      } else {
        event = proxyEvent(
          { ...incoming, body: await readBody(req, { maxBytes: maxPayload, tooLarge: () => payloadTooLarge(maxPayload) }) },
          null,
        );
      }

      const handler = opts.handlers[match.route.handler];
      if (!handler) throw new GatewayResponse(502, "bad_gateway", "no integration for this route");
      const timeoutMs = (match.route.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
      integrationStart = Date.now();
      begun = requestFields();
      opts.accessLog?.begin(begun);
      if (isStreamingHandler(handler)) {
        const outcome = await runStreamingHandler({
          handler,
          event,
          context: lambdaContext(match.route.handler, requestId, receivedAt + timeoutMs),
          res,
          requestId,
          timeoutMs,
        });
        if (outcome.kind === "nothing-sent") {
          const failure = outcome.reason === "timeout" ? TIMED_OUT : FUNCTION_ERROR;
          finish(integrationFailure(failure, requestId), failure.message);
          await outcome.settled;
        } else {
          // nginx's "client closed request": the client left before any status was sent.
          logAccess(outcome.kind === "sent" ? outcome.status : 499, outcome.kind === "sent" ? { responseLength: outcome.bytes } : {});
        }
        return;
      }
      const result = await withIntegrationTimeout((handler as ProxyHandler)(event), timeoutMs);
      finish(result);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        logAccess(res.statusCode, { errorMessage: "the response was cut" });
        return;
      }
      if (!(err instanceof GatewayResponse)) console.error(`gateway: request ${requestId} failed: ${(err as Error)?.stack ?? String(err)}`);
      const g = err instanceof GatewayResponse ? err : new GatewayResponse(500, "internal_error", "internal error");
      // A refused request whose body was not read: answer, then discard what it still sends for
      // a bounded time before closing, so the client reads its status instead of a reset.
      if (!req.complete) {
        res.setHeader("connection", "close");
        lingerOnClose(req.socket);
      }
      finish(integrationFailure(g, requestId), g.message);
    }
  }

  const server: Server = createServer(listenerOptions(opts.limits), (req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error(`gateway: ${(err as Error)?.stack ?? String(err)}`);
      res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  guardListener(
    server,
    (status, message) => ({ body: errorBody(status === 408 ? "request_timeout" : "bad_request", message, randomUUID()) }),
    opts.limits,
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Node's default backlog (511) resets connections when a thousand clients connect at once;
    // API Gateway accepts them all. The kernel caps this at net.core.somaxconn.
    server.listen({ port: opts.port ?? 0, host: opts.host ?? "127.0.0.1", backlog: 4096 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const EMPTY = Buffer.alloc(0);
/** API Gateway's integration timeout for REST APIs, unless a route says otherwise. */
const DEFAULT_TIMEOUT_SECONDS = 29;
const TIMED_OUT = new GatewayResponse(504, "integration_timeout", "Endpoint request timed out");
// A handler that throws is a Lambda function error: API Gateway answers 502.
const FUNCTION_ERROR = new GatewayResponse(502, "bad_gateway", "Internal server error");

function integrationFailure(g: GatewayResponse, requestId: string): APIGatewayProxyResult {
  return {
    statusCode: g.status,
    headers: { "content-type": "application/json", ...g.headers },
    body: errorBody(g.type, g.message, requestId),
  };
}

/**
 * The handler's result, or a 504 once the integration timeout passes, as API Gateway cuts a
 * slow integration. The handler is not stopped (a Lambda function would run on too).
 */
function withIntegrationTimeout(pending: Promise<APIGatewayProxyResult>, timeoutMs: number): Promise<APIGatewayProxyResult> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    pending.catch(() => {
      throw FUNCTION_ERROR;
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(TIMED_OUT), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

function payloadTooLarge(max: number): GatewayResponse {
  return new GatewayResponse(413, "payload_too_large", `request body exceeds ${max} bytes`);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** API Gateway's `$context.requestTime`: `01/Dec/2026:14:32:39 +0000`. */
function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** Writes a buffered result; returns the body's length (the access log's responseLength). */
function writeResult(res: ServerResponse, requestId: string, result: APIGatewayProxyResult): number {
  const headers: Record<string, string | string[]> = { "x-amzn-requestid": requestId };
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, vs] of Object.entries(result.multiValueHeaders ?? {})) headers[k.toLowerCase()] = vs.map(String);
  const body = result.isBase64Encoded ? Buffer.from(result.body, "base64") : Buffer.from(result.body ?? "", "utf8");
  headers["content-length"] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
  return body.length;
}
