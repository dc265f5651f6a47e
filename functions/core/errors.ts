/**
 * Typed errors of the domain and the one mapping from error to HTTP response. Handlers throw
 * these (or let adapters throw them) and `toErrorResponse` turns any of them into the JSON
 * error shape `{"error":{"type","message","request_id"}}`. Anything unknown is a 500 whose
 * message says nothing about the internals.
 */

export interface ErrorOptions {
  readonly cause?: unknown;
  /** Seconds a client should wait before retrying (429/503). */
  readonly retryAfterSeconds?: number;
  /** Extra response headers (rate-limit headers on a 429, say). */
  readonly headers?: Readonly<Record<string, string>>;
}

export abstract class ApiError extends Error {
  abstract readonly status: number;
  abstract readonly type: string;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }
}

export class BadRequestError extends ApiError {
  override readonly name = "BadRequestError";
  readonly status = 400;
  readonly type = "invalid_request";
}
export class UnauthorizedError extends ApiError {
  override readonly name = "UnauthorizedError";
  readonly status = 401;
  readonly type = "unauthorized";
}
export class ForbiddenError extends ApiError {
  override readonly name = "ForbiddenError";
  readonly status = 403;
  readonly type = "forbidden";
}
export class NotFoundError extends ApiError {
  override readonly name = "NotFoundError";
  readonly status = 404;
  readonly type = "not_found";
}
export class ConflictError extends ApiError {
  override readonly name = "ConflictError";
  readonly status = 409;
  readonly type = "conflict";
}
export class PayloadTooLargeError extends ApiError {
  override readonly name = "PayloadTooLargeError";
  readonly status = 413;
  readonly type = "payload_too_large";
}
export class UnsupportedMediaTypeError extends ApiError {
  override readonly name = "UnsupportedMediaTypeError";
  readonly status = 415;
  readonly type = "unsupported_media_type";
}
/** The model refused the input as invalid (its own 4xx). */
export class ModelInputError extends ApiError {
  override readonly name = "ModelInputError";
  readonly status = 422;
  readonly type = "model_input_error";
}
export class RateLimitedError extends ApiError {
  override readonly name = "RateLimitedError";
  readonly status = 429;
  readonly type = "rate_limited";
}
/**
 * A monthly budget (the tenant's or the key's) cannot cover the request: nothing was charged.
 * Retry-After is the start of the next UTC month (or raise the budget). The OpenAI routes
 * answer it as OpenAI's `insufficient_quota` (see openai.ts).
 */
export class BudgetExceededError extends ApiError {
  override readonly name = "BudgetExceededError";
  readonly status = 429;
  readonly type = "budget_exceeded";
}
/** The model failed (its own 5xx, or an answer we cannot use). */
export class ModelFailedError extends ApiError {
  override readonly name = "ModelFailedError";
  readonly status = 502;
  readonly type = "model_error";
}
/** The model was not called, or could not run: nothing was served, so nothing is billed. */
export class ServiceUnavailableError extends ApiError {
  override readonly name: string = "ServiceUnavailableError";
  readonly status = 503;
  readonly type: string = "service_unavailable";
}
/**
 * A scale-to-zero model with no copy running: the call itself asks for capacity, which
 * arrives within the retry delay. Waking, not broken; and, like any 503 here, never billed.
 */
export class ModelWakingError extends ServiceUnavailableError {
  override readonly name: string = "ModelWakingError";
  override readonly type: string = "model_waking";
}
export class DeadlineExceededError extends ApiError {
  override readonly name = "DeadlineExceededError";
  readonly status = 504;
  readonly type = "timeout";
}
export class InternalError extends ApiError {
  override readonly name = "InternalError";
  readonly status = 500;
  readonly type = "internal_error";
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The one error shape: handlers, the local gateway's own refusals and the cloud's gateway
 * responses answer with it, and the CLI reads it back with `readErrorBody`.
 */
export interface ErrorDocument {
  readonly error: { readonly type: string; readonly message: string; readonly request_id: string };
}

export function errorBody(type: string, message: string, requestId: string): string {
  const document: ErrorDocument = { error: { type, message, request_id: requestId } };
  return JSON.stringify(document);
}

/** The error a parsed response body carries; `undefined` when the body is not in the error shape. */
export function readErrorBody(body: unknown): ErrorDocument["error"] | undefined {
  const error = (body as { error?: unknown } | null | undefined)?.error as Record<string, unknown> | null | undefined;
  if (typeof error !== "object" || error === null || typeof error.message !== "string") return undefined;
  return {
    type: typeof error.type === "string" ? error.type : "",
    message: error.message,
    request_id: typeof error.request_id === "string" ? error.request_id : "",
  };
}

/** Maps any thrown value to the JSON error response; unknown errors become an opaque 500. */
export function toErrorResponse(err: unknown, requestId: string): HttpResponse {
  const e = err instanceof ApiError ? err : new InternalError("internal error");
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-request-id": requestId,
    ...e.headers,
  };
  if (e.retryAfterSeconds !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(e.retryAfterSeconds)));
  return { statusCode: e.status, headers, body: errorBody(e.type, e.message, requestId) };
}
