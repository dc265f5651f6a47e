import { BadRequestError, ConflictError, NotFoundError } from "../../../functions/core/errors";
import type { TenantLimits } from "../../../functions/core/limits/tenant-limits";
import type { IdentityAdmin, Page, StoredKey, Tenant, TenantPatch } from "../../../functions/core/ports";
import { StaleRevisionError } from "../../../functions/core/tenants";

type Rotation = { readonly keyId: string; readonly expiresAt: string; readonly now: string };

const encodeCursor = (tenantId: string) => Buffer.from(tenantId, "utf8").toString("base64url");

/**
 * Tenants and keys in two maps, with the port's conditional semantics: tenant writes and key
 * creations are checked against the tenant's revision, rotation supersedes its key in the same
 * (synchronous, hence atomic) step, and a key of another tenant reads like a missing one.
 */
export class MemoryIdentityStore implements IdentityAdmin {
  readonly tenants = new Map<string, Tenant>();
  readonly keys = new Map<string, StoredKey>();

  async getKey(keyId: string) {
    return this.keys.get(keyId);
  }

  async getTenant(tenantId: string) {
    return this.tenants.get(tenantId);
  }

  async touchKey(keyId: string, usedAt: string, staleBefore: string) {
    const k = this.keys.get(keyId);
    if (k && (k.lastUsedAt === undefined || k.lastUsedAt <= staleBefore)) this.keys.set(keyId, { ...k, lastUsedAt: usedAt });
  }

  async createTenant(t: Tenant) {
    if (this.tenants.has(t.tenantId)) throw new ConflictError(`tenant '${t.tenantId}' already exists (or existed)`);
    this.tenants.set(t.tenantId, t);
  }

  async listTenants(limit: number, cursor?: string): Promise<Page<Tenant>> {
    const after = cursor === undefined ? "" : Buffer.from(cursor, "base64url").toString("utf8");
    if (cursor !== undefined && !this.tenants.has(after)) throw new BadRequestError("invalid cursor");
    const live = [...this.tenants.values()].filter((t) => t.status !== "deleted").sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1));
    const rest = live.filter((t) => t.tenantId > after);
    const items = rest.slice(0, limit);
    const last = items.at(-1);
    return { items, ...(rest.length > limit && last ? { cursor: encodeCursor(last.tenantId) } : {}) };
  }

  async updateTenant(tenantId: string, patch: TenantPatch, expectedRevision: number, now: string): Promise<Tenant> {
    const t = this.tenants.get(tenantId);
    if (!t) throw new NotFoundError(`tenant '${tenantId}' does not exist`);
    if ((t.revision ?? 0) !== expectedRevision) throw new StaleRevisionError(`tenant '${tenantId}' changed concurrently; retry`);
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const next: Tenant = { ...t, ...defined, revision: expectedRevision + 1, updatedAt: now };
    this.tenants.set(tenantId, next);
    return next;
  }

  async listKeys(tenantId: string) {
    const order = (k: StoredKey) => `${k.createdAt}#${k.keyId}`;
    return [...this.keys.values()].filter((k) => k.tenantId === tenantId).sort((a, b) => (order(a) < order(b) ? -1 : 1));
  }

  async putKey(k: StoredKey, tenantRevision: number, rotate?: Rotation) {
    const tenant = this.tenants.get(k.tenantId);
    if (tenant?.status !== "active" || (tenant.revision ?? 0) !== tenantRevision)
      throw new StaleRevisionError(`tenant '${k.tenantId}' changed concurrently; retry`);
    if (this.keys.has(k.keyId)) throw new ConflictError("key id collision; retry");
    const old = rotate ? this.keys.get(rotate.keyId) : undefined;
    if (rotate) {
      const usable = old?.tenantId === k.tenantId && old.status === "active" && !old.replacedBy;
      if (!usable || (old.expiresAt !== undefined && old.expiresAt <= rotate.now))
        throw new ConflictError(`key '${rotate.keyId}' changed concurrently (revoked, expired or rotated)`);
      this.keys.set(rotate.keyId, { ...old, replacedBy: k.keyId, expiresAt: rotate.expiresAt });
    }
    this.tenants.set(k.tenantId, { ...tenant, revision: tenantRevision + 1 });
    this.keys.set(k.keyId, k);
  }

  async setKeyLimits(tenantId: string, keyId: string, limits: TenantLimits) {
    const { limits: _old, ...k } = this.keyOf(tenantId, keyId);
    const next: StoredKey = Object.keys(limits).length > 0 ? { ...k, limits } : k;
    this.keys.set(keyId, next);
    return next;
  }

  async revokeKey(tenantId: string, keyId: string, now = new Date().toISOString()) {
    const k = this.keyOf(tenantId, keyId);
    this.keys.set(keyId, { ...k, status: "revoked", revokedAt: k.revokedAt ?? now });
  }

  private keyOf(tenantId: string, keyId: string): StoredKey {
    const k = this.keys.get(keyId);
    if (k?.tenantId !== tenantId) throw new NotFoundError(`tenant '${tenantId}' has no key '${keyId}'`);
    return k;
  }
}
