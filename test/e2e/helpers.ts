import { AdminClient, type ApiResponse, toApiResponse } from "../../cli/api-client";

/** The shared e2e platform every suite talks to (started once by global-setup). */
export interface E2EPlatform {
  readonly url: string;
  readonly dataDir: string;
  readonly apiKey: string;
  readonly admin: { accessKeyId: string; secretAccessKey: string; region: string };
  readonly dynamodb: string;
  /** The local SageMaker Runtime (its component report: GET /_local/inference-components). */
  readonly sagemakerRuntime: string;
}

/** Jest's global setup runs in the parent process; its workers inherit the parent's environment. */
export const E2E_PLATFORM_ENV = "MODELGATE_E2E_PLATFORM";

export function e2ePlatform(): E2EPlatform {
  const json = process.env[E2E_PLATFORM_ENV];
  if (json === undefined)
    throw new Error(`${E2E_PLATFORM_ENV} is not set: run the e2e suites through jest (the e2e project's globalSetup)`);
  return JSON.parse(json) as E2EPlatform;
}

export function admin(): AdminClient {
  const p = e2ePlatform();
  return new AdminClient({ apiUrl: p.url, region: p.admin.region, credentials: p.admin });
}

export const SETOSA = [5.1, 3.5, 1.4, 0.2];
export const VIRGINICA = [6.7, 3.0, 5.2, 2.3];

export function inferBody(rows: number[][] = [SETOSA]) {
  return { inputs: [{ name: "input", shape: [rows.length, 4], datatype: "FP32", data: rows.flat() }] };
}

/** POSTs (or GETs) with a tenant key. */
export async function call(
  path: string,
  opts: { key?: string | undefined; method?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<ApiResponse<any>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${e2ePlatform().url}${path}`, {
    method: opts.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  return toApiResponse(res);
}

let counter = 0;
/** A fresh tenant with its own key, so suites never share state. */
export async function newTenant(models: string[] = ["iris"], prefix = "t"): Promise<{ tenantId: string; apiKey: string; keyId: string }> {
  const tenantId = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`.slice(0, 40);
  const created = await admin().request("POST", "/admin/tenants", { tenantId, models });
  if (created.status !== 201) throw new Error(`tenant create failed: ${created.status} ${created.text}`);
  const key = await admin().request<{ apiKey: string; keyId: string }>("POST", `/admin/tenants/${tenantId}/keys`, {});
  if (key.status !== 201) throw new Error(`key create failed: ${key.status} ${key.text}`);
  return { tenantId, apiKey: key.body.apiKey, keyId: key.body.keyId };
}

export function probabilities(body: any): number[] {
  const out = body.outputs.find((o: { name: string }) => o.name === "probabilities");
  return out.data as number[];
}

/**
 * Waits until the tenant's aggregates are fresh up to now (their `asOf`, as the admin usage
 * read reports it): every request answered before this call is counted once it returns.
 */
export async function freshUsage(tenantId: string, timeoutMs = 30_000): Promise<void> {
  const since = new Date().toISOString();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const res = await admin().request<{ asOf?: string }>("GET", `/admin/tenants/${tenantId}/usage`);
    if (res.status === 200 && (res.body.asOf ?? "") >= since) return;
    if (Date.now() > end)
      throw new Error(`usage of ${tenantId} not fresh after ${timeoutMs} ms (asOf ${res.body.asOf}, waiting for ${since})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}
