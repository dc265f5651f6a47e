import { describe, expect, it } from "@jest/globals";
import { authorizeKey } from "../../functions/core/authorize";
import { UnauthorizedError } from "../../functions/core/errors";
import { generateApiKey } from "../../functions/core/key-format";
import type { KeyStore, StoredKey, Tenant } from "../../functions/core/ports";
import { principalFromContext, principalToContext } from "../../functions/core/principal";
import { ExpiringSet, rememberingUnknownKeys } from "../../functions/core/unknown-keys";

const tenant: Tenant = { tenantId: "acme", name: "Acme", models: ["iris"], plan: "default", status: "active", createdAt: "", revision: 1 };
const key = generateApiKey();
const stored: StoredKey = {
  keyId: key.keyId,
  tenantId: "acme",
  secretHash: key.secretHash,
  scopes: ["invoke"],
  status: "active",
  createdAt: "",
  expiresAt: "2026-06-01T00:10:00.000Z",
};
const now = Date.parse("2026-06-01T00:00:00Z");

function countingStore(): KeyStore & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    getKey: async (id) => {
      reads.push(id);
      return id === key.keyId ? stored : undefined;
    },
    getTenant: async () => tenant,
  };
}

describe("a cached authorization cannot outlive its key", () => {
  it("carries the key's expiry in the context and refuses it once passed (401)", async () => {
    const principal = await authorizeKey(countingStore(), key.apiKey, now);
    const ctx = principalToContext(principal);
    expect(ctx.keyExpiresAt).toBe(stored.expiresAt);
    expect(principalFromContext(ctx, now).keyId).toBe(key.keyId);
    expect(() => principalFromContext(ctx, Date.parse("2026-06-01T00:10:00.000Z"))).toThrow(UnauthorizedError);
    expect(() => principalFromContext({ ...ctx, keyExpiresAt: "not a date" }, now)).toThrow(UnauthorizedError);
    const { keyExpiresAt: _, ...forever } = ctx;
    expect(principalFromContext(forever, now + 1e12).keyId).toBe(key.keyId);
  });
});

describe("unknown key ids are remembered briefly, bounded", () => {
  it("a repeated unknown key costs one read per TTL; known keys are read every time", async () => {
    let clock = now;
    const inner = countingStore();
    const store = rememberingUnknownKeys(inner, new ExpiringSet(30_000, 100, () => clock));
    const unknown = generateApiKey().apiKey;
    for (let i = 0; i < 5; i++) await expect(authorizeKey(store, unknown, clock)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(inner.reads).toHaveLength(1);
    clock += 30_001;
    await expect(authorizeKey(store, unknown, clock)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(inner.reads).toHaveLength(2);
    await authorizeKey(store, key.apiKey, now);
    await authorizeKey(store, key.apiKey, now);
    expect(inner.reads).toHaveLength(4);
  });

  it("holds at most maxEntries, forgetting the oldest first", () => {
    let clock = 0;
    const set = new ExpiringSet(1000, 3, () => clock);
    for (const id of ["a", "b", "c", "d"]) {
      set.add(id);
      clock += 10;
    }
    expect(set.size).toBe(3);
    expect(["a", "b", "c", "d"].map((id) => set.has(id))).toEqual([false, true, true, true]);
    clock += 1000;
    expect(set.has("d")).toBe(false);
  });
});
