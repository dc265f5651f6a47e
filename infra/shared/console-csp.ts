/**
 * The console's Content-Security-Policy, one for both hosts: CloudFront's response headers in the
 * cloud (infra/aws/constructs/console-site.ts), the local gateway at /console
 * (infra/local/gateway/console-site.ts). Its own scripts and styles only (no `unsafe-inline`),
 * calls to its own origin and the platform's AWS endpoints (the API, Cognito) only, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' https://*.amazonaws.com",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");
