import { isLlmRuntime } from "../contract/runtimes";
import { ServiceUnavailableError } from "./errors";
import {
  chargeAll,
  hasLimits,
  type LimitCheck,
  type LimitHandle,
  type LimitStore,
  limitKeyOf,
  limitSubject,
  quotaLeasesOf,
  refusalError,
  releaseAll,
} from "./limits/tenant-limits";
import { type LimitStateView, type LimitsView, limitStateView, limitsView } from "./limits/views";
import type { Principal } from "./principal";

/** An admitted request's limit charges: headers for the response, handles to settle. */
export interface AdmissionTicket {
  readonly headers: Readonly<Record<string, string>>;
  readonly handles: readonly LimitHandle[];
  /** The quota leases it was admitted under: its usage record carries them (see quota-leases.ts). */
  readonly leases: readonly string[];
}

const NO_LIMITS: AdmissionTicket = { headers: {}, handles: [], leases: [] };

/**
 * Tokens a request may use, from the fields LLM servers read (KServe v2 `parameters`, OpenAI
 * and TGI bodies): reserved against the token quota before the call, settled after.
 */
export function tokenEstimateOf(json: unknown): number {
  if (typeof json !== "object" || json === null) return 0;
  const body = json as Record<string, unknown>;
  const params = (typeof body.parameters === "object" && body.parameters !== null ? body.parameters : {}) as Record<string, unknown>;
  for (const v of [body.max_tokens, body.max_completion_tokens, params.max_tokens, params.max_new_tokens]) {
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  }
  return 0;
}

/** What a request that names no maximum reserves on an LLM runtime, unless its model says otherwise. */
export const DEFAULT_MAX_TOKENS_PER_REQUEST = 4096;
/** Raw bodies larger than this are not parsed for a maximum: they reserve the model's. */
const MAX_PARSED_RAW_BODY_BYTES = 1_000_000;

/**
 * Tokens to reserve against a token quota: the maximum the request names, on any route (a raw
 * JSON body is read for it too), else the model's `maxTokensPerRequest`, else the platform
 * default on an LLM runtime. Without it a raw TGI/LMI request reserved nothing and could run a
 * tenant far past its quota before the first settlement.
 */
export function tokenReservationOf(
  req: { readonly json?: unknown; readonly body: Uint8Array; readonly contentType: string },
  model: { readonly maxTokensPerRequest?: number | undefined },
  runtime: string,
): number {
  const named = tokenEstimateOf(req.json !== undefined ? req.json : rawJson(req.body, req.contentType));
  if (named > 0) return named;
  return model.maxTokensPerRequest ?? (isLlmRuntime(runtime) ? DEFAULT_MAX_TOKENS_PER_REQUEST : 0);
}

function rawJson(body: Uint8Array, contentType: string): unknown {
  if (!/json/i.test(contentType) || body.byteLength > MAX_PARSED_RAW_BODY_BYTES) return undefined;
  try {
    return JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return undefined;
  }
}

/** A limit check, and whether the limits are the tenant's or the key's own. */
export type CallerLimitCheck = LimitCheck & { readonly of: keyof LimitStatus };

/** The tenant's limits and the key's own, each a subject of its own counters; unset ones cost nothing. */
export function limitChecksOf(p: Principal): CallerLimitCheck[] {
  const checks: CallerLimitCheck[] = [];
  if (p.limits && hasLimits(p.limits)) checks.push({ of: "tenant", subject: limitSubject(p.tenantId), limits: p.limits });
  if (p.keyLimits && hasLimits(p.keyLimits))
    checks.push({ of: "key", subject: limitSubject(p.tenantId, limitKeyOf(p)), limits: p.keyLimits });
  return checks;
}

/** Whether the tenant or the key has a monthly budget: then every request reserves its maximum cost. */
export function hasBudget(p: Principal): boolean {
  return [p.limits, p.keyLimits].some((l) => l?.monthlyBudget !== undefined);
}

/** Whether the tenant's or the key's limits include a token limit (per minute or per month). */
export function hasTokenQuota(p: Principal): boolean {
  return [p.limits, p.keyLimits].some((l) => l?.monthlyTokens !== undefined || l?.tokensPerMinute !== undefined);
}

/**
 * Where a caller stands against its tenant's and its key's limits now, charging nothing.
 * Money (`monthlyBudget`, and `now.monthlyBudget`: limit, spent, remaining) is in decimal
 * strings of the platform currency.
 */
export interface LimitStatus {
  readonly tenant?: LimitsView & { readonly now: LimitStateView };
  readonly key?: LimitsView & { readonly now: LimitStateView };
}

/** The caller's limits and their current windows (for `GET /v1/usage`); `{}` when none apply. */
export async function limitStatusOf(store: LimitStore, principal: Principal, now: number): Promise<LimitStatus> {
  const entries = await Promise.all(
    limitChecksOf(principal).map(
      async (c) => [c.of, { ...limitsView(c.limits), now: limitStateView(await store.peek(c.subject, c.limits, now)) }] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/**
 * Charges the tenant's (and the key's) limits before the model is called: a refusal becomes a 429 (with
 * Retry-After and x-ratelimit-* headers) and charges nothing; a store that cannot answer
 * fails the request closed (503), since admitting blind could overshoot a quota.
 */
export async function admit(
  store: LimitStore | undefined,
  principal: Principal,
  ctx: { readonly now: number; readonly requestId: string; readonly tokenEstimate: number; readonly costEstimateNano?: number },
): Promise<AdmissionTicket | { readonly refused: Error }> {
  const checks = limitChecksOf(principal);
  if (!store || checks.length === 0) return NO_LIMITS;
  let result: Awaited<ReturnType<typeof chargeAll>>;
  try {
    result = await chargeAll(store, checks, ctx);
  } catch (err) {
    throw new ServiceUnavailableError("limits could not be checked; the request was not served", { cause: err, retryAfterSeconds: 1 });
  }
  if (!result.admitted) return { refused: refusalError(result) };
  return { headers: result.headers, handles: result.handles, leases: quotaLeasesOf(result.handles) };
}

/**
 * Releases the concurrency slot and settles tokens and cost (at `now`, which decides whether a
 * per-minute reservation is still corrected); never fails the (already answered) request.
 */
export async function settle(
  store: LimitStore | undefined,
  ticket: AdmissionTicket,
  used: { readonly tokens?: number | undefined; readonly costNano?: number | undefined },
  now: number,
): Promise<void> {
  if (!store || ticket.handles.length === 0) return;
  const usage = {
    now,
    ...(used.tokens !== undefined ? { actualTokens: used.tokens } : {}),
    ...(used.costNano !== undefined ? { actualCostNano: used.costNano } : {}),
  };
  await releaseAll(store, ticket.handles, usage).catch(() => undefined);
}
