import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { errorBody } from "../../../functions/core/errors";
import type { HandlerName, RouteDefinition } from "../../shared/routes";
import { readBody } from "../read-body";
import { type AuthorizerHandler, AuthorizerRunner } from "./authorizer-runner";
import { type IncomingRequest, proxyEvent } from "./events";
import { Router } from "./router";
import { type AdminCredential, verifySigV4 } from "./sigv4";
import { TokenBucket } from "./throttle";

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface GatewayOptions {
  readonly host?: string;
  readonly port?: number;
  readonly routes: readonly RouteDefinition[];
  readonly handlers: Readonly<Record<HandlerName, ProxyHandler>>;
  readonly authorizer: AuthorizerHandler;
  readonly authorizerCacheTtlSeconds: number;
  readonly admin: AdminCredential;
  readonly rateLimitPerSecond: number;
  readonly burstLimit: number;
  /** API Gateway's own payload limit. @default 10 MiB */
  readonly maxPayloadBytes?: number;
  /** Called once per request, after the response is sent (access log). */
  readonly onAccess?: (entry: AccessLogEntry) => void;
}

export interface AccessLogEntry {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly tenantId?: string;
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
  const maxPayload = opts.maxPayloadBytes ?? 10 * 1024 * 1024;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const receivedAt = Date.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    let tenantId: string | undefined;
    const finish = (result: APIGatewayProxyResult) => {
      writeResult(res, requestId, result);
      opts.onAccess?.({
        requestId,
        method: req.method ?? "",
        path: url.pathname,
        status: result.statusCode,
        latencyMs: Date.now() - receivedAt,
        ...(tenantId ? { tenantId } : {}),
      });
    };
    try {
      const body = await readBody(req, {
        maxBytes: maxPayload,
        tooLarge: () => new GatewayResponse(413, "payload_too_large", `request body exceeds ${maxPayload} bytes`),
      });
      const match = router.match(req.method ?? "GET", url.pathname);
      // API Gateway answers a path or method it has no resource for with MISSING_AUTHENTICATION_TOKEN
      // (403), the same response an unsigned admin call gets; the cloud's gateway responses
      // give it the JSON error shape, as here.
      if (!match || "methodMismatch" in match) throw new GatewayResponse(403, "forbidden", "Missing Authentication Token");
      const incoming: IncomingRequest = {
        requestId,
        receivedAt,
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        route: match.route,
        pathParameters: match.pathParameters,
      };
      const slot = bucket.take();
      if (!slot.ok) throw new GatewayResponse(429, "rate_limited", "Too Many Requests", { "retry-after": String(slot.retryAfterSeconds) });

      let event: APIGatewayProxyEvent;
      if (match.route.auth === "apiKey") {
        const outcome = await runner.authorize(incoming);
        if (outcome.kind === "unauthorized") throw new GatewayResponse(401, "unauthorized", "Unauthorized");
        if (outcome.kind === "denied") throw new GatewayResponse(403, "forbidden", "User is not authorized to access this resource");
        if (outcome.kind === "error")
          throw new GatewayResponse(503, "service_unavailable", "the authorizer failed; retry shortly", { "retry-after": "1" });
        tenantId = typeof outcome.context.tenantId === "string" ? outcome.context.tenantId : undefined;
        event = proxyEvent(incoming, outcome.context);
      } else if (match.route.auth === "iam") {
        const verdict = await verifySigV4(incoming, opts.admin);
        if (!verdict.ok) throw new GatewayResponse(403, "forbidden", `admin routes need a valid SigV4 signature: ${verdict.reason}`);
        event = proxyEvent(incoming, null, {
          userArn: ADMIN_IDENTITY,
          caller: verdict.accessKeyId,
          accessKey: verdict.accessKeyId,
          user: verdict.accessKeyId,
        });
      } else {
        event = proxyEvent(incoming, null);
      }

      const handler = opts.handlers[match.route.handler];
      let result: APIGatewayProxyResult;
      try {
        result = await handler(event);
      } catch {
        // A handler that throws is a Lambda function error: API Gateway answers 502.
        throw new GatewayResponse(502, "bad_gateway", "Internal server error");
      }
      finish(result);
    } catch (err) {
      const g = err instanceof GatewayResponse ? err : new GatewayResponse(500, "internal_error", "internal error");
      finish({
        statusCode: g.status,
        headers: { "content-type": "application/json", ...g.headers },
        body: errorBody(g.type, g.message, requestId),
      });
    }
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
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

function writeResult(res: ServerResponse, requestId: string, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = { "x-amzn-requestid": requestId };
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, vs] of Object.entries(result.multiValueHeaders ?? {})) headers[k.toLowerCase()] = vs.map(String);
  const body = result.isBase64Encoded ? Buffer.from(result.body, "base64") : Buffer.from(result.body ?? "", "utf8");
  headers["content-length"] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}
