import { UnauthorizedError } from "./errors";
import { parseApiKey, secretMatches } from "./keys";
import type { KeyStore } from "./ports";
import type { Principal } from "./principal";

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
  return { tenantId: tenant.tenantId, keyId: key.keyId, scopes: key.scopes, models: tenant.models, plan: tenant.plan };
}

/** An allow policy for every method of the API's stage: results are cached across routes. */
export function wholeApiResource(methodArn: string): string {
  // arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path…}
  const [prefix, stage] = methodArn.split("/");
  return `${prefix}/${stage ?? "*"}/*/*`;
}
