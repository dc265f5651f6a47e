import { ConflictError, NotFoundError } from "./errors";
import { hasLimits, type TenantLimits } from "./limits/tenant-limits";
import { limitsView } from "./limits/views";
import type { IdentityAdmin, Page, Tenant, TenantPatch } from "./ports";

export const TENANT_ID = /^[a-z0-9-]{3,40}$/;

/** A tenant write lost a race with another write of the same tenant; safe to retry. */
export class StaleRevisionError extends ConflictError {}

export interface NewTenant {
  readonly tenantId: string;
  readonly name?: string | undefined;
  readonly models: readonly string[];
  readonly plan?: string | undefined;
  readonly limits?: TenantLimits | undefined;
}

const normalizeModels = (models: readonly string[]) => (models.includes("*") ? ["*"] : [...new Set(models)].sort());

export async function createTenant(store: IdentityAdmin, input: NewTenant, now = new Date()): Promise<Tenant> {
  const at = now.toISOString();
  const tenant: Tenant = {
    tenantId: input.tenantId,
    name: input.name ?? input.tenantId,
    models: normalizeModels(input.models),
    plan: input.plan ?? "default",
    status: "active",
    createdAt: at,
    updatedAt: at,
    revision: 1,
    ...(input.limits && hasLimits(input.limits) ? { limits: input.limits } : {}),
  };
  await store.createTenant(tenant);
  return tenant;
}

/** The tenant, unless it does not exist or was deleted (both read as 404). */
export async function requireTenant(store: IdentityAdmin, tenantId: string): Promise<Tenant> {
  const tenant = await store.getTenant(tenantId);
  if (!tenant || tenant.status === "deleted") throw new NotFoundError(`tenant '${tenantId}' does not exist`);
  return tenant;
}

export async function listTenants(store: IdentityAdmin, limit: number, cursor?: string): Promise<Page<Tenant>> {
  return store.listTenants(limit, cursor);
}

/**
 * Every live tenant's id, all pages of the list (an operator's platform has hundreds of tenants,
 * not millions). Deleted tenants are not listed.
 */
export async function allTenantIds(store: Pick<IdentityAdmin, "listTenants">): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listTenants(100, cursor);
    ids.push(...page.items.map((t) => t.tenantId));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return ids;
}

/**
 * Re-reads and retries when another write of the same tenant got in between (with jitter,
 * so a burst of concurrent key creations converges instead of colliding again).
 */
export async function withTenantRetry<T>(fn: () => Promise<T>, attempts = 12): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StaleRevisionError) || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(i, 5)));
    }
  }
}

export async function updateTenant(store: IdentityAdmin, tenantId: string, patch: TenantPatch, now = new Date()): Promise<Tenant> {
  const clean: TenantPatch = { ...patch, ...(patch.models ? { models: normalizeModels(patch.models) } : {}) };
  return withTenantRetry(async () => {
    const tenant = await requireTenant(store, tenantId);
    return store.updateTenant(tenantId, clean, tenant.revision, now.toISOString());
  });
}

/** Disables a tenant: the authorizer refuses all its keys once cached results expire. */
export const disableTenant = (store: IdentityAdmin, tenantId: string, now = new Date()) =>
  updateTenant(store, tenantId, { status: "disabled" }, now);

export const enableTenant = (store: IdentityAdmin, tenantId: string, now = new Date()) =>
  updateTenant(store, tenantId, { status: "active" }, now);

export interface DeletedTenant {
  readonly tenantId: string;
  readonly status: "deleted";
  readonly revokedKeys: number;
}

/**
 * Deletes a tenant: first a tombstone (so its keys stop working and no new key can be made,
 * even if the revocations below are interrupted), then every active key revoked. Usage
 * records are not touched. Idempotent: deleting a deleted tenant finishes the revocations.
 */
export async function deleteTenant(store: IdentityAdmin, tenantId: string, now = new Date()): Promise<DeletedTenant> {
  const at = now.toISOString();
  const tenant = await store.getTenant(tenantId);
  if (!tenant) throw new NotFoundError(`tenant '${tenantId}' does not exist`);
  // A repeated delete finishes revocations an interrupted one left behind.
  if (tenant.status !== "deleted") await updateTenant(store, tenantId, { status: "deleted" }, now);
  let revokedKeys = 0;
  for (const k of await store.listKeys(tenantId)) {
    if (k.status !== "active") continue;
    await store.revokeKey(tenantId, k.keyId, at);
    revokedKeys++;
  }
  return { tenantId, status: "deleted", revokedKeys };
}

/** The public view of a tenant. */
export function tenantView(t: Tenant) {
  return {
    tenantId: t.tenantId,
    name: t.name,
    models: t.models,
    plan: t.plan,
    status: t.status,
    createdAt: t.createdAt,
    ...(t.updatedAt ? { updatedAt: t.updatedAt } : {}),
    revision: t.revision,
    limits: limitsView(t.limits ?? {}),
  };
}
