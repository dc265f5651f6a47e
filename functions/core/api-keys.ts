import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from "./errors";
import { generateApiKey, KEY_PREFIX } from "./key-format";
import { hasLimits, limitKeyOf, type TenantLimits } from "./limits/tenant-limits";
import { type LimitsView, limitsView } from "./limits/views";
import type { IdentityAdmin, StoredKey } from "./ports";
import { KEY_SCOPES, type KeyScope } from "./scopes";
import { requireTenant, withTenantRetry } from "./tenants";

/** Valid keys a tenant may hold at once, keys in their rotation grace included. */
export const DEFAULT_MAX_KEYS = 10;
export const DEFAULT_GRACE_SECONDS = 3600;
export const MAX_GRACE_SECONDS = 30 * 24 * 3600;

export interface NewKey {
  readonly name?: string | undefined;
  readonly expiresAt?: string | undefined;
  readonly scopes?: readonly KeyScope[] | undefined;
  /** Limits of this key alone, enforced on top of the tenant's. */
  readonly limits?: TenantLimits | undefined;
}

export interface CreatedKey {
  readonly keyId: string;
  /** The whole key: returned once, never stored. */
  readonly apiKey: string;
  readonly tenantId: string;
  readonly prefix: string;
  readonly name?: string;
  readonly scopes: readonly KeyScope[];
  readonly createdAt: string;
  readonly expiresAt?: string;
  /** As the admin API shows limits: `monthlyBudget` a decimal string. */
  readonly limits?: LimitsView;
}

export interface RotatedKey extends CreatedKey {
  readonly previousKeyId: string;
  readonly previousValidUntil: string;
}

export type KeyState = "active" | "expired" | "revoked";

export function keyState(k: StoredKey, now: number): KeyState {
  if (k.status !== "active") return "revoked";
  if (k.expiresAt !== undefined && Date.parse(k.expiresAt) <= now) return "expired";
  return "active";
}

/**
 * Counts against the cap: usable now, a rotated key in its grace included. Counting only keys
 * not yet superseded let chained rotations hold any number of working keys.
 */
export const countsAgainstCap = (k: StoredKey, now: number) => keyState(k, now) === "active";

/** What an operator may see of a key: never the hash, never the secret. */
export function keyView(k: StoredKey, now = Date.now()) {
  return {
    keyId: k.keyId,
    prefix: `${KEY_PREFIX}${k.keyId}`,
    tenantId: k.tenantId,
    ...(k.name !== undefined ? { name: k.name } : {}),
    scopes: k.scopes,
    status: keyState(k, now),
    createdAt: k.createdAt,
    ...(k.lastUsedAt !== undefined ? { lastUsedAt: k.lastUsedAt } : {}),
    ...(k.expiresAt !== undefined ? { expiresAt: k.expiresAt } : {}),
    ...(k.revokedAt !== undefined ? { revokedAt: k.revokedAt } : {}),
    ...(k.replacedBy !== undefined ? { replacedBy: k.replacedBy } : {}),
    ...(k.rotatedFrom !== undefined ? { rotatedFrom: k.rotatedFrom } : {}),
    ...(k.limits !== undefined ? { limits: limitsView(k.limits) } : {}),
  };
}

function newStoredKey(tenantId: string, input: NewKey, createdAt: string, extra: Partial<StoredKey> = {}) {
  const key = generateApiKey();
  const scopes = input.scopes && input.scopes.length > 0 ? [...new Set(input.scopes)] : [...KEY_SCOPES];
  const stored: StoredKey = {
    keyId: key.keyId,
    tenantId,
    secretHash: key.secretHash,
    scopes,
    status: "active",
    createdAt,
    ...(input.name ? { name: input.name } : {}),
    ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
    ...(input.limits && hasLimits(input.limits) ? { limits: input.limits } : {}),
    ...extra,
  };
  const created: CreatedKey = {
    keyId: key.keyId,
    apiKey: key.apiKey,
    tenantId,
    prefix: key.displayPrefix,
    scopes,
    createdAt,
    ...(stored.name !== undefined ? { name: stored.name } : {}),
    ...(stored.expiresAt !== undefined ? { expiresAt: stored.expiresAt } : {}),
    ...(stored.limits !== undefined ? { limits: limitsView(stored.limits) } : {}),
  };
  return { stored, created };
}

async function activeTenant(store: IdentityAdmin, tenantId: string) {
  const tenant = await requireTenant(store, tenantId);
  if (tenant.status !== "active") throw new ForbiddenError(`tenant '${tenantId}' is disabled`);
  return tenant;
}

export async function createKey(
  store: IdentityAdmin,
  tenantId: string,
  input: NewKey,
  now = new Date(),
  maxKeys = DEFAULT_MAX_KEYS,
): Promise<CreatedKey> {
  if (input.expiresAt !== undefined && Date.parse(input.expiresAt) <= now.getTime())
    throw new BadRequestError("expiresAt must be in the future");
  return withTenantRetry(async () => {
    const tenant = await activeTenant(store, tenantId);
    const live = (await store.listKeys(tenantId)).filter((k) => countsAgainstCap(k, now.getTime())).length;
    if (live >= maxKeys)
      throw new ConflictError(`tenant '${tenantId}' already has ${live} live keys (the limit is ${maxKeys}); revoke one first`);
    const { stored, created } = newStoredKey(tenantId, input, now.toISOString());
    await store.putKey(stored, tenant.revision);
    return created;
  });
}

/**
 * Rotation with overlap: a new key with the same name, scopes and (unless given) expiry now;
 * the old one keeps working until now + grace (or its own earlier expiry), then the authorizer
 * refuses it. The successor takes the old key's place under the cap, so a tenant at the cap can
 * rotate once; a second rotation during that grace, like a new key, waits for a free slot.
 */
export async function rotateKey(
  store: IdentityAdmin,
  tenantId: string,
  keyId: string,
  opts: { readonly graceSeconds?: number | undefined; readonly expiresAt?: string | undefined } = {},
  now = new Date(),
  maxKeys = DEFAULT_MAX_KEYS,
): Promise<RotatedKey> {
  const grace = opts.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  if (opts.expiresAt !== undefined && Date.parse(opts.expiresAt) <= now.getTime())
    throw new BadRequestError("expiresAt must be in the future");
  return withTenantRetry(async () => {
    const tenant = await activeTenant(store, tenantId);
    const old = await store.getKey(keyId);
    // A key of another tenant reads exactly like a missing one.
    if (!old || old.tenantId !== tenantId) throw new NotFoundError(`tenant '${tenantId}' has no key '${keyId}'`);
    const state = keyState(old, now.getTime());
    if (state !== "active") throw new ConflictError(`key '${keyId}' is ${state} and cannot be rotated`);
    if (old.replacedBy) throw new ConflictError(`key '${keyId}' was already rotated to '${old.replacedBy}'`);
    const others = (await store.listKeys(tenantId)).filter((k) => k.keyId !== keyId && countsAgainstCap(k, now.getTime())).length;
    if (others >= maxKeys)
      throw new ConflictError(`tenant '${tenantId}' already has ${others + 1} live keys (the limit is ${maxKeys}); revoke one first`);
    const graceEnd = now.getTime() + grace * 1000;
    const validUntil = new Date(old.expiresAt ? Math.min(Date.parse(old.expiresAt), graceEnd) : graceEnd).toISOString();
    const { stored, created } = newStoredKey(
      tenantId,
      // Rotating must not turn an expiring key into one that never expires.
      { name: old.name, scopes: old.scopes, expiresAt: opts.expiresAt ?? old.expiresAt, limits: old.limits },
      now.toISOString(),
      // The successor charges the same limit counters: rotating must not reset a quota.
      { rotatedFrom: keyId, limitKeyId: limitKeyOf(old) },
    );
    await store.putKey(stored, tenant.revision, { keyId, expiresAt: validUntil, now: now.toISOString() });
    return { ...created, previousKeyId: keyId, previousValidUntil: validUntil };
  });
}

export async function listKeys(store: IdentityAdmin, tenantId: string, now = new Date()) {
  await requireTenant(store, tenantId);
  return (await store.listKeys(tenantId)).map((k) => keyView(k, now.getTime()));
}

/** Replaces a key's own limits (`{}` removes them); the tenant's limits are not touched. */
export async function updateKeyLimits(store: IdentityAdmin, tenantId: string, keyId: string, limits: TenantLimits, now = new Date()) {
  await requireTenant(store, tenantId);
  return keyView(await store.setKeyLimits(tenantId, keyId, limits), now.getTime());
}

export async function revokeKey(store: IdentityAdmin, tenantId: string, keyId: string, now = new Date()) {
  await store.revokeKey(tenantId, keyId, now.toISOString());
  return { tenantId, keyId, status: "revoked" as const, revokedAt: now.toISOString() };
}
