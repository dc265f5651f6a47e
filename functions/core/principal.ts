import { ForbiddenError, UnauthorizedError } from "./errors";
import { hasLimits, type TenantLimits, validateLimits } from "./limits/tenant-limits";
import type { KeyScope } from "./scopes";

/**
 * Who is calling: built by the authorizer, carried in the API Gateway authorizer context
 * (whose values must be strings), and read back by every handler. The tenant id comes from
 * here only, never from a path, query or body.
 */
export interface Principal {
  readonly tenantId: string;
  readonly keyId: string;
  readonly scopes: readonly KeyScope[];
  /** Granted model names, or `["*"]` for all. */
  readonly models: readonly string[];
  readonly plan: string;
  /** The tenant's limits, as of the (cached) authorization. */
  readonly limits?: TenantLimits;
  /** The key's own limits, enforced on top of the tenant's. */
  readonly keyLimits?: TenantLimits;
  /** The key whose limit counters this key charges, when not itself (a rotated key's predecessor). */
  readonly limitKeyId?: string;
  /** When the key expires (ISO 8601), so a cached authorization cannot outlive the key. */
  readonly keyExpiresAt?: string;
}

export type AuthorizerContext = Record<string, string>;

export function principalToContext(p: Principal): AuthorizerContext {
  return {
    tenantId: p.tenantId,
    keyId: p.keyId,
    scopes: p.scopes.join(","),
    models: p.models.join(","),
    plan: p.plan,
    // Context values must be strings: the limits travel as JSON.
    ...(p.limits && hasLimits(p.limits) ? { limits: JSON.stringify(p.limits) } : {}),
    ...(p.keyLimits && hasLimits(p.keyLimits) ? { keyLimits: JSON.stringify(p.keyLimits) } : {}),
    ...(p.limitKeyId ? { limitKeyId: p.limitKeyId } : {}),
    ...(p.keyExpiresAt ? { keyExpiresAt: p.keyExpiresAt } : {}),
  };
}

function limitsOf(value: unknown): TenantLimits | undefined {
  if (typeof value !== "string" || !value) return undefined;
  try {
    const r = validateLimits(JSON.parse(value));
    return r.ok ? r.limits : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the principal back from the authorizer context; a missing context is a 401, and so is
 * a key that expired after API Gateway cached its authorization (the cache outlives nothing).
 */
export function principalFromContext(ctx: Readonly<Record<string, unknown>> | null | undefined, now = Date.now()): Principal {
  const tenantId = ctx?.tenantId;
  const keyId = ctx?.keyId;
  if (typeof tenantId !== "string" || typeof keyId !== "string" || !tenantId || !keyId) {
    throw new UnauthorizedError("missing caller identity");
  }
  const keyExpiresAt = typeof ctx?.keyExpiresAt === "string" && ctx.keyExpiresAt ? ctx.keyExpiresAt : undefined;
  // An unreadable expiry refuses too: NaN <= now is false, so it is checked explicitly.
  if (keyExpiresAt !== undefined && !(Date.parse(keyExpiresAt) > now)) throw new UnauthorizedError("Unauthorized");
  const list = (v: unknown) => (typeof v === "string" && v ? v.split(",") : []);
  return {
    tenantId,
    keyId,
    scopes: list(ctx?.scopes) as KeyScope[],
    models: list(ctx?.models),
    plan: typeof ctx?.plan === "string" ? ctx.plan : "default",
    ...withLimits("limits", limitsOf(ctx?.limits)),
    ...withLimits("keyLimits", limitsOf(ctx?.keyLimits)),
    ...(typeof ctx?.limitKeyId === "string" && ctx.limitKeyId ? { limitKeyId: ctx.limitKeyId } : {}),
    ...(keyExpiresAt ? { keyExpiresAt } : {}),
  };
}

const withLimits = (field: "limits" | "keyLimits", limits: TenantLimits | undefined) => (limits ? { [field]: limits } : {});

export function requireScope(p: Principal, scope: KeyScope): void {
  if (!p.scopes.includes(scope)) throw new ForbiddenError(`this API key lacks the '${scope}' scope`);
}

export function isGranted(p: Pick<Principal, "models">, model: string): boolean {
  return p.models.includes("*") || p.models.includes(model);
}
