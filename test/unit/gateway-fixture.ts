import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import type { RouteDefinition } from "../../functions/contract/routes";
import { type GatewayOptions, type ProxyHandler, startGateway } from "../../infra/local/gateway/server";

/** The one key the fake authorizer accepts. */
export const GOOD_KEY = "mg_live_fixture";

export const TEST_ROUTES: readonly RouteDefinition[] = [
  { method: "GET", path: "/public", handler: "invoke", auth: "none", summary: "public" },
  { method: "POST", path: "/echo", handler: "invoke", auth: "apiKey", summary: "echoes the body" },
  { method: "POST", path: "/slow", handler: "usage", auth: "apiKey", summary: "slow", timeoutSeconds: 0.3 },
  { method: "POST", path: "/stream", handler: "admin", auth: "apiKey", summary: "streams", timeoutSeconds: 2 },
];

const allow: APIGatewayAuthorizerResult = {
  principalId: "p",
  policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: "*" }] },
  context: { tenantId: "t1" },
};

/** Accepts `Bearer GOOD_KEY` only, counting its calls. */
export function fakeAuthorizer() {
  const calls: APIGatewayRequestAuthorizerEvent[] = [];
  const handler = async (event: APIGatewayRequestAuthorizerEvent) => {
    calls.push(event);
    if (event.headers?.authorization?.trim() !== `Bearer ${GOOD_KEY}`) throw new Error("Unauthorized");
    return allow;
  };
  return { calls, handler };
}

const echo: ProxyHandler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ body: event.body }),
});
const slow: ProxyHandler = () => new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: "late" }), 2_000));

export async function startTestGateway(overrides: Partial<GatewayOptions> = {}) {
  return startGateway({
    routes: TEST_ROUTES,
    handlers: { invoke: echo, usage: slow },
    authorizer: fakeAuthorizer().handler,
    authorizerCacheTtlSeconds: 0,
    admin: { accessKeyId: "AKIALOCALTEST", secretAccessKey: "s3cret" },
    rateLimitPerSecond: 100_000,
    burstLimit: 100_000,
    ...overrides,
  });
}
