import { readFile } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { CONSOLE_CSP } from "../../shared/console-csp";

/**
 * The console's static files at `/console` on the gateway's port: what CloudFront in front of
 * an S3 bucket does in the cloud (the cloud half sets the same headers as response headers).
 * Not an API route: no authorizer, no throttling, no access-log line, as a CloudFront
 * distribution is not the API stage.
 */
export const CONSOLE_PATH = "/console";

export { CONSOLE_CSP };

/** The local host's `config.json`: the cloud writes its own at deploy (ConsoleSite.siteConfig). */
export const LOCAL_SITE_CONFIG = { signIn: "local" } as const;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), clipboard-write=(self)",
};

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".map": "application/json",
};

export interface SiteResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** True for the paths the console owns; everything else is the API's. */
export const isConsolePath = (pathname: string) => pathname === CONSOLE_PATH || pathname.startsWith(`${CONSOLE_PATH}/`);

/**
 * The response for a console path, read from `dir` (the esbuild output): `index.html` never
 * cached (it names the content-hashed bundles), the bundles cached for good.
 */
export async function consoleResponse(dir: string, method: string, pathname: string): Promise<SiteResponse> {
  if (method !== "GET" && method !== "HEAD") return text(405, "method not allowed", { allow: "GET, HEAD" });
  if (pathname === CONSOLE_PATH) return text(308, "moved", { location: `${CONSOLE_PATH}/` });
  const rest = pathname.slice(CONSOLE_PATH.length + 1);
  // How operators sign in here: the local admin pair, the API on this origin (console/src/site-config.ts).
  if (rest === "config.json") {
    return {
      status: 200,
      headers: { ...SECURITY_HEADERS, "content-type": "application/json", "cache-control": "no-store" },
      body: Buffer.from(JSON.stringify(LOCAL_SITE_CONFIG)),
    };
  }
  const name = rest === "" || rest === "index.html" ? "index.html" : rest;
  const type = TYPES[extname(name)];
  const root = resolve(dir);
  const file = resolve(root, name);
  // Only files under the build folder, with a type we serve (no dot-files, no traversal).
  if (!type || !file.startsWith(root + sep) || name.split("/").some((seg) => seg.startsWith(".") || seg === "")) {
    return text(404, "not found");
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return text(404, "not found");
  }
  const cache = name === "index.html" ? "no-store" : "public, max-age=31536000, immutable";
  return { status: 200, headers: { ...SECURITY_HEADERS, "content-type": type, "cache-control": cache }, body };
}

function text(status: number, message: string, headers: Record<string, string> = {}): SiteResponse {
  return {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers },
    body: Buffer.from(`${message}\n`),
  };
}
