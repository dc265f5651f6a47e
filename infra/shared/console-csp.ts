/**
 * The console's Content-Security-Policy for sources it may call (`connect-src`) besides its own
 * origin: its own scripts and styles only (no `unsafe-inline`), never framed. Locally the API is
 * on the console's origin (CONSOLE_CSP); in the cloud CloudFront sends it with the API's origin
 * and the region's Cognito endpoints (infra/aws/constructs/console-site.ts), no other host.
 */
export function consoleCsp(connectSources: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...connectSources].join(" ")}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");
}

/** The local host's policy (infra/local/gateway/console-site.ts): the console calls its own origin only. */
export const CONSOLE_CSP = consoleCsp();
