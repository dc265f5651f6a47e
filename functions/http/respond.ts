import type { APIGatewayProxyResult } from "aws-lambda";
import type { z } from "zod";
import { BadRequestError } from "../core/errors";

export function json(statusCode: number, body: unknown, requestId: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { "content-type": "application/json", "x-request-id": requestId, ...headers },
    body: JSON.stringify(body),
  };
}

/** Binary-safe response: text types go as text, everything else base64 (API Gateway decodes it). */
export function bytes(statusCode: number, body: Uint8Array, contentType: string, headers: Record<string, string>): APIGatewayProxyResult {
  const text = /^(application\/(.+\+)?json|text\/)/i.test(contentType);
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return {
    statusCode,
    headers: { "content-type": contentType, ...headers },
    body: text ? buf.toString("utf8") : buf.toString("base64"),
    isBase64Encoded: !text,
  };
}

/** Validates input with a zod schema; the 400 names the first bad field. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  throw new BadRequestError(`${where}${issue?.message ?? "invalid request"}`);
}
