/**
 * CORS between the cloud console (its CloudFront origin) and the API, read by both sides: API
 * Gateway's preflights (infra/aws/constructs/gateway-api.ts) and the handlers' answers
 * (functions/http/cors.ts).
 */

/**
 * The request headers a console call may carry: SigV4's (the admin pages) or a tenant key's
 * `Authorization`, and the admin client's signed nonce. API Gateway's preflight (OPTIONS, no
 * auth) answers with these.
 */
export const CORS_ALLOW_HEADERS = [
  "authorization",
  "content-type",
  "x-amz-date",
  "x-amz-security-token",
  "x-amz-content-sha256",
  "x-modelgate-nonce",
] as const;

/** Response headers the console reads besides the CORS-safelisted ones. */
export const CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after", "content-disposition"] as const;
