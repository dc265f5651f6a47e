import { UnauthorizedError } from "./errors";
import { parseApiKey, secretMatches } from "./key-format";
import type { KeyStore, StoredKey } from "./ports";
import type { Principal } from "./principal";

/** `lastUsedAt` is kept to this resolution: at most one write per key per interval. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Decides who a presented API key belongs to. Order matters: the checksum is verified before
 * any read, so malformed and mistyped keys cost nothing; the secret is compared in constant
 * time; then key status, expiry and the tenant's own status. Every refusal is the same
 * UnauthorizedError so callers learn nothing about which check failed.
 */
export async function authorizeKey(store: KeyStore, presented: string | undefined, now = Date.now()): Promise<Principal> {
  const refuse = (why: string) => new UnauthorizedError("Unauthorized", { cause: why });
  const parsed = parseApiKey(presented);
  if (!parsed) throw refuse("malformed key or bad checksum");
  const key = await store.getKey(parsed.keyId);
  if (!key) throw refuse("unknown key");
  if (!secretMatches(parsed.secret, key.secretHash)) throw refuse("secret mismatch");
  if (key.status !== "active") throw refuse("key revoked");
  if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= now) throw refuse("key expired");
  const tenant = await store.getTenant(key.tenantId);
  if (tenant?.status !== "active") throw refuse("tenant missing or disabled");
  await recordUse(store, key, now);
  return {
    tenantId: tenant.tenantId,
    keyId: key.keyId,
    scopes: key.scopes,
    models: tenant.models,
    plan: tenant.plan,
    ...(tenant.limits ? { limits: tenant.limits } : {}),
    ...(key.limits ? { keyLimits: key.limits } : {}),
    ...(key.limitKeyId ? { limitKeyId: key.limitKeyId } : {}),
    ...(key.expiresAt !== undefined ? { keyExpiresAt: key.expiresAt } : {}),
  };
}

/** Whether `lastUsedAt` is stale enough to be written again. */
export function lastUsedIsStale(key: Pick<StoredKey, "lastUsedAt">, now: number): boolean {
  return key.lastUsedAt === undefined || Date.parse(key.lastUsedAt) <= now - LAST_USED_RESOLUTION_MS;
}

/**
 * Updates `lastUsedAt` only when the stored value is a minute old (the authorizer's result
 * cache already spares most requests a call). A failed write never refuses a valid key.
 */
async function recordUse(store: KeyStore, key: StoredKey, now: number): Promise<void> {
  if (!store.touchKey || !lastUsedIsStale(key, now)) return;
  try {
    await store.touchKey?.(key.keyId, new Date(now).toISOString(), new Date(now - LAST_USED_RESOLUTION_MS).toISOString());
  } catch {
    // Best effort: losing one lastUsedAt update is better than refusing traffic.
  }
}

/** An allow policy for every method of the API's stage: results are cached across routes. */
export function wholeApiResource(methodArn: string): string {
  // arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path…}
  const [prefix, stage] = methodArn.split("/");
  return `${prefix}/${stage ?? "*"}/*/*`;
}
