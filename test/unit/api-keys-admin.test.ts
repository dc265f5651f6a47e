import { describe, expect, it } from "vitest";
import { countsAgainstCap, keyState, keyView } from "../../functions/core/api-keys";
import { LAST_USED_RESOLUTION_MS, lastUsedIsStale } from "../../functions/core/authorize";
import type { StoredKey } from "../../functions/core/ports";

const base: StoredKey = {
  keyId: "AAAAAAAAAAAAAAAA",
  tenantId: "acme",
  secretHash: "ab".repeat(32),
  scopes: ["invoke"],
  status: "active",
  createdAt: "2026-01-01T00:00:00.000Z",
};
const now = Date.parse("2026-06-01T00:00:00Z");

describe("key views and states", () => {
  it("never exposes the hash", () => {
    const v = keyView({ ...base, name: "ci", lastUsedAt: "2026-05-01T00:00:00.000Z" }, now);
    expect(JSON.stringify(v)).not.toContain(base.secretHash);
    expect(v).not.toHaveProperty("secretHash");
    expect(v).toMatchObject({ prefix: "mg_live_AAAAAAAAAAAAAAAA", status: "active", name: "ci" });
  });

  it("derives active / expired / revoked, and the cap counts superseded keys until their grace ends", () => {
    expect(keyState(base, now)).toBe("active");
    expect(keyState({ ...base, expiresAt: "2026-05-31T23:59:59.000Z" }, now)).toBe("expired");
    expect(keyState({ ...base, status: "revoked" }, now)).toBe("revoked");
    expect(countsAgainstCap(base, now)).toBe(true);
    expect(countsAgainstCap({ ...base, replacedBy: "B".repeat(16), expiresAt: "2026-06-01T01:00:00.000Z" }, now)).toBe(true);
    expect(countsAgainstCap({ ...base, replacedBy: "B".repeat(16), expiresAt: "2026-05-31T23:00:00.000Z" }, now)).toBe(false);
  });

  it("writes lastUsedAt only when the stored value is a minute old", () => {
    expect(lastUsedIsStale({}, now)).toBe(true);
    expect(lastUsedIsStale({ lastUsedAt: new Date(now - 1000).toISOString() }, now)).toBe(false);
    expect(lastUsedIsStale({ lastUsedAt: new Date(now - LAST_USED_RESOLUTION_MS).toISOString() }, now)).toBe(true);
  });
});
