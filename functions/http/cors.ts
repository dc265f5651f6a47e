import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { CORS_EXPOSE_HEADERS } from "../contract/cors";

/** The request's `Origin` header, whatever its case (REST API events keep the client's). */
function originOf(event: APIGatewayProxyEvent): string | undefined {
  for (const [name, value] of Object.entries(event.headers ?? {})) if (name.toLowerCase() === "origin") return value ?? undefined;
  return undefined;
}

/**
 * Lets exactly one other origin read a function's responses: the cloud console's (CloudFront),
 * which calls the API from a page on its own domain. A request from that origin gets
 * `Access-Control-Allow-Origin` naming it; any other origin, or none, gets nothing added, so a
 * browser keeps the response from that page. `Vary: Origin` either way, so no cache mixes them.
 * Without `allowedOrigin` (the local host: the console is on the API's origin) the handler is
 * returned as it is. Cloud composition roots only (functions/admin/handler.ts, functions/usage/handler.ts).
 */
export function withCors(
  handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
  allowedOrigin: string | undefined,
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  if (!allowedOrigin) return handler;
  return async (event) => {
    const result = await handler(event);
    const headers: Record<string, string | number | boolean> = { ...result.headers, vary: "Origin" };
    if (originOf(event) === allowedOrigin) {
      headers["access-control-allow-origin"] = allowedOrigin;
      headers["access-control-expose-headers"] = CORS_EXPOSE_HEADERS.join(", ");
    }
    return { ...result, headers };
  };
}
