import { describe, expect, it } from "vitest";
import { createKey, rotateKey } from "../../functions/core/api-keys";
import { ConflictError } from "../../functions/core/errors";
import type { IdentityAdmin, StoredKey, Tenant } from "../../functions/core/ports";

/** The identity store's key rules in memory: what createKey and rotateKey rely on. */
function memoryIdentity(tenant: Tenant): IdentityAdmin & { keys: Map<string, StoredKey> } {
  const keys = new Map<string, StoredKey>();
  const unused = () => Promise.reject(new Error("not used by these tests"));
  return {
    keys,
    getTenant: async (id) => (id === tenant.tenantId ? tenant : undefined),
    getKey: async (id) => keys.get(id),
    listKeys: async (id) => [...keys.values()].filter((k) => k.tenantId === id),
    putKey: async (k, _revision, rotate) => {
      keys.set(k.keyId, k);
      const old = rotate && keys.get(rotate.keyId);
      if (old) keys.set(old.keyId, { ...old, replacedBy: k.keyId, expiresAt: rotate.expiresAt });
    },
    createTenant: unused,
    listTenants: unused,
    updateTenant: unused,
    setKeyLimits: unused,
    revokeKey: unused,
  };
}

const tenant: Tenant = { tenantId: "acme", name: "Acme", models: ["iris"], plan: "default", status: "active", createdAt: "" };
const now = new Date("2026-06-01T00:00:00Z");

describe("key rotation", () => {
  it("a successor created without an expiry inherits its predecessor's", async () => {
    const store = memoryIdentity(tenant);
    const expiresAt = "2026-09-01T00:00:00.000Z";
    const old = await createKey(store, "acme", { expiresAt }, now);
    const rotated = await rotateKey(store, "acme", old.keyId, {}, now);
    expect(rotated.expiresAt).toBe(expiresAt);
    expect(store.keys.get(rotated.keyId)?.expiresAt).toBe(expiresAt);
    const chosen = await rotateKey(store, "acme", rotated.keyId, { expiresAt: "2026-12-01T00:00:00.000Z" }, now);
    expect(chosen.expiresAt).toBe("2026-12-01T00:00:00.000Z");
  });

  it("keys in their rotation grace count toward the cap: chained rotations cannot exceed it by more than the one in flight", async () => {
    const store = memoryIdentity(tenant);
    const first = await createKey(store, "acme", {}, now, 3);
    await createKey(store, "acme", {}, now, 3);
    await createKey(store, "acme", {}, now, 3);
    // At the cap, one rotation is allowed: the successor takes its predecessor's place.
    const second = await rotateKey(store, "acme", first.keyId, { graceSeconds: 3600 }, now, 3);
    await expect(rotateKey(store, "acme", second.keyId, { graceSeconds: 3600 }, now, 3)).rejects.toBeInstanceOf(ConflictError);
    await expect(createKey(store, "acme", {}, now, 3)).rejects.toThrow(/4 live keys \(the limit is 3\)/);
    // Once the grace is over, the old key stops counting.
    const later = new Date(now.getTime() + 3601_000);
    await expect(createKey(store, "acme", {}, later, 3)).rejects.toBeInstanceOf(ConflictError);
    await expect(rotateKey(store, "acme", second.keyId, { graceSeconds: 60 }, later, 3)).resolves.toMatchObject({
      previousKeyId: second.keyId,
    });
  });
});
