import { S3Client } from "@aws-sdk/client-s3";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { readErrorBody } from "../functions/core/errors";
import { readCredentials } from "../infra/local/bootstrap/credentials";
import { AdminClient, type ApiResponse } from "./api-client";
import { CliError, configError, EXIT } from "./errors";

/** Options every command accepts (commander merges them from the program). */
export interface GlobalOptions {
  readonly dataDir: string;
  readonly endpoint?: string;
  readonly json?: boolean;
}

export interface Target {
  readonly apiUrl: string;
  /** Builds the signing client on first use: invoke alone needs no admin credentials. */
  admin(): AdminClient;
  /** The local demo key, when the target is a local platform with credentials.json. */
  readonly defaultApiKey?: string;
  /** The model store's S3 client: the AWS credential chain in the cloud, s3rver locally. */
  s3(): S3Client;
}

/**
 * Where the CLI talks to. `--endpoint` (or MODELGATE_ENDPOINT): a deployed API, signed with
 * the standard AWS credential chain and AWS_REGION. Otherwise the local platform described by
 * `<data-dir>/credentials.json`, which holds its URL and local admin credential pair.
 */
export function resolveTarget(opts: GlobalOptions): Target {
  if (opts.endpoint) {
    const apiUrl = checkUrl(opts.endpoint);
    return {
      apiUrl,
      admin: () => {
        const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
        if (!region) throw configError("set AWS_REGION to the region of the deployed API");
        return new AdminClient({ apiUrl, region, credentials: fromNodeProviderChain() });
      },
      s3: () => new S3Client({}),
    };
  }
  let creds: ReturnType<typeof readCredentials>;
  try {
    creds = readCredentials(opts.dataDir);
  } catch (err) {
    throw configError(`cannot read ${opts.dataDir}/credentials.json: ${(err as Error).message}`);
  }
  if (!creds)
    throw configError(`no ${opts.dataDir}/credentials.json: start the local platform (npm start), or pass --data-dir or --endpoint`);
  const { apiUrl, admin, apiKey, s3 } = creds;
  return {
    apiUrl,
    defaultApiKey: apiKey,
    admin: () => new AdminClient({ apiUrl, region: admin.region, credentials: admin }),
    s3: () => {
      if (!s3) throw configError(`${opts.dataDir}/credentials.json names no model store: restart the local platform (npm start)`);
      return new S3Client({
        endpoint: s3.endpoint,
        region: admin.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        // s3rver would store aws-chunked framing verbatim.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      });
    },
  };
}

/**
 * A deployed API is HTTPS: plain HTTP would carry API keys and signed admin requests in the
 * clear. Loopback (a local platform, a tunnel) is the one exception.
 */
export function checkUrl(u: string): string {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new CliError(`--endpoint must be an http(s) URL, got '${u}'`, EXIT.badArguments);
  }
  if (url.protocol === "https:") return u;
  if (url.protocol !== "http:") throw new CliError(`--endpoint must be an http(s) URL, got '${u}'`, EXIT.badArguments);
  if (isLoopback(url.hostname)) return u;
  throw new CliError(
    `--endpoint must use https:// (plain http:// only to loopback: 127.0.0.0/8, ::1, localhost), got '${u}'`,
    EXIT.badArguments,
  );
}

/** `URL` normalises IPv4 spellings (`127.1`, `0x7f.1`) to dotted quads and brackets IPv6. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Network failures are configuration errors (wrong URL, platform not running). */
export async function reach<T>(apiUrl: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CliError) throw err;
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw configError(`cannot reach ${apiUrl}: ${cause ?? (err as Error).message}`);
  }
}

/** Turns an error response into a one-line CliError. */
export function apiFailure(res: ApiResponse): CliError {
  const e = readErrorBody(res.body);
  const detail = e?.message ? `${e.message} (HTTP ${res.status} ${e.type})`.trim() : `HTTP ${res.status}: ${res.text.slice(0, 200)}`;
  return new CliError(detail.replace(/\s+/g, " ").replace(/ \)$/, ")"), EXIT.api);
}

/** Calls an admin route; anything but 2xx becomes a CliError. */
export async function adminCall<T>(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  query?: Record<string, string | undefined>,
) {
  const res = await reach(target.apiUrl, () => target.admin().request<T>(method, path, body, query));
  if (res.status < 200 || res.status > 299) throw apiFailure(res);
  return res.body;
}
