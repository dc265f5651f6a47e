import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, Provider } from "@smithy/types";

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

export interface AdminClientOptions {
  readonly apiUrl: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
}

/**
 * Calls admin routes with AWS SigV4 (service `execute-api`): API Gateway's IAM authorization
 * in the cloud, the emulator's check locally. One client for both hosts, and for both callers:
 * the CLI (Node.js) and the console (the browser), so it uses only what both have (fetch, Web
 * Crypto); `credentials` may be a provider (the console's sign-in form, Cognito in the cloud).
 */
export class AdminClient {
  private readonly signer: SignatureV4;
  private readonly base: URL;

  constructor(opts: AdminClientOptions) {
    this.base = new URL(opts.apiUrl.endsWith("/") ? opts.apiUrl : `${opts.apiUrl}/`);
    this.signer = new SignatureV4({ credentials: opts.credentials, region: opts.region, service: "execute-api", sha256: Sha256 });
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    query: Record<string, string | undefined> = {},
  ): Promise<ApiResponse<T>> {
    const url = new URL(path.replace(/^\//, ""), this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const queryObj: Record<string, string> = {};
    url.searchParams.forEach((v, k) => {
      queryObj[k] = v;
    });
    const signed = await this.signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: queryObj,
      // A signed nonce: two identical calls within a second would otherwise carry the same
      // signature, and the local gateway refuses a signature it has seen (replay protection).
      headers: {
        host: url.host,
        "x-modelgate-nonce": globalThis.crypto.randomUUID(),
        ...(payload !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const res = await fetch(url, {
      method,
      headers: signed.headers as Record<string, string>,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    return toApiResponse<T>(res);
  }
}

export async function toApiResponse<T>(res: Response): Promise<ApiResponse<T>> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, headers: res.headers, body: body as T, text };
}
