import type { AwsCredentialIdentity, Provider } from "@smithy/types";
import { AdminClient, type ApiResponse, toApiResponse } from "../../cli/api-client";

/** An API error as the console shows it: the handlers' `{"error":{type,message,request_id}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

function unwrap<T>(res: ApiResponse<T>): T {
  if (res.status >= 200 && res.status < 300) return res.body;
  const err = (res.body as { error?: { type?: string; message?: string; request_id?: string } } | undefined)?.error;
  throw new ApiError(res.status, err?.type ?? "error", err?.message ?? (res.text || `HTTP ${res.status}`), err?.request_id);
}

type Query = Record<string, string | undefined>;

/**
 * The admin API, SigV4-signed by the CLI's own client. Credentials come from a provider: locally
 * the sign-in form's pair, held in this object only (never a URL, a log or storage); in the
 * cloud a Cognito identity pool's provider gives the same shape.
 */
export class AdminApi {
  private readonly client: AdminClient;

  constructor(apiUrl: string, region: string, credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>) {
    this.client = new AdminClient({ apiUrl, region, credentials });
  }

  async get<T>(path: string, query: Query = {}): Promise<T> {
    return unwrap(await this.client.request<T>("GET", path, undefined, query));
  }

  async send<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
    return unwrap(await this.client.request<T>(method, path, body));
  }

  /** A document as text (an invoice's HTML or CSV, say), for a download. */
  async text(path: string, query: Query = {}): Promise<string> {
    const res = await this.client.request<unknown>("GET", path, undefined, query);
    unwrap(res);
    return res.text;
  }
}

/** The tenant API with an API key (`usage:read`), held in this object only. */
export class TenantApi {
  constructor(
    private readonly apiUrl: string,
    private readonly apiKey: string,
  ) {}

  async get<T>(path: string, query: Query = {}): Promise<T> {
    const url = new URL(path.replace(/^\//, ""), this.apiUrl.endsWith("/") ? this.apiUrl : `${this.apiUrl}/`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const res = await fetch(url, { headers: { authorization: `Bearer ${this.apiKey}` }, cache: "no-store", credentials: "omit" });
    return unwrap(await toApiResponse<T>(res));
  }

  /** A document as text (an invoice's HTML or CSV), for a download. */
  async text(path: string, query: Query = {}): Promise<string> {
    const url = new URL(path.replace(/^\//, ""), this.apiUrl.endsWith("/") ? this.apiUrl : `${this.apiUrl}/`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const res = await fetch(url, { headers: { authorization: `Bearer ${this.apiKey}` }, cache: "no-store", credentials: "omit" });
    const out = await toApiResponse<unknown>(res);
    unwrap(out);
    return out.text;
  }
}

/** Path segments are encoded: a tenant id or alias never changes the path it is put in. */
export const seg = (s: string | number) => encodeURIComponent(String(s));
