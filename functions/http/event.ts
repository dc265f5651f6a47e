import type { APIGatewayProxyEvent } from "aws-lambda";
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from "../core/errors";
import { headerValue } from "../core/key-format";

/** Request id of an API Gateway (or emulator) request. */
export function requestIdOf(event: Pick<APIGatewayProxyEvent, "requestContext">): string {
  return event.requestContext?.requestId ?? "unknown";
}

export function header(event: Pick<APIGatewayProxyEvent, "headers">, name: string): string | undefined {
  return headerValue(event.headers as Record<string, string | undefined>, name);
}

/** The raw request body, decoded from base64 when API Gateway encoded it; 413 past `maxBytes`. */
export function bodyBytes(event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded">, maxBytes: number): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  const buf = event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
  if (buf.length > maxBytes) throw new PayloadTooLargeError(`request body is ${buf.length} bytes; the limit is ${maxBytes}`);
  return buf;
}

/**
 * The request's JSON body and the bytes it came from, decoded once (the inference path needs
 * both). Anything but well-formed JSON with a JSON content type is a client error; with
 * `optional`, a request without a body reads as `{}` (routes whose fields are all optional).
 */
export function jsonBody(
  event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded" | "headers">,
  maxBytes: number,
  options: { readonly optional?: boolean } = {},
): { json: unknown; bytes: Buffer } {
  if (options.optional && !event.body) return { json: {}, bytes: Buffer.alloc(0) };
  const type = header(event, "content-type");
  if (type !== undefined && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new UnsupportedMediaTypeError(`content-type must be application/json, got '${type}'`);
  }
  const bytes = bodyBytes(event, maxBytes);
  if (bytes.length === 0) throw new BadRequestError("request body is empty; a JSON document is required");
  try {
    return { json: JSON.parse(bytes.toString("utf8")), bytes };
  } catch {
    throw new BadRequestError("request body is not valid JSON");
  }
}

export function pathParam(event: Pick<APIGatewayProxyEvent, "pathParameters">, name: string): string {
  const v = event.pathParameters?.[name];
  if (!v) throw new BadRequestError(`missing path parameter '${name}'`);
  return v;
}

export function queryParam(event: Pick<APIGatewayProxyEvent, "queryStringParameters">, name: string): string | undefined {
  const v = event.queryStringParameters?.[name];
  return v === null || v === undefined || v === "" ? undefined : v;
}

/** The named query parameters, each absent when missing or empty (a report's or an export's options). */
export function queryParams<K extends string>(
  event: Pick<APIGatewayProxyEvent, "queryStringParameters">,
  names: readonly K[],
): Record<K, string | undefined> {
  return Object.fromEntries(names.map((name) => [name, queryParam(event, name)])) as Record<K, string | undefined>;
}
