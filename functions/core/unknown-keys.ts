import type { KeyStore } from "./ports";

/**
 * A bounded set whose members are forgotten after a TTL. Every member lives equally long, so
 * insertion order is expiry order: when full, the oldest member (the next to expire) goes.
 */
export class ExpiringSet {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  has(member: string): boolean {
    const expires = this.expiries.get(member);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.expiries.delete(member);
    return false;
  }

  add(member: string): void {
    // Re-adding moves the member to the end, keeping the map in expiry order.
    this.expiries.delete(member);
    while (this.expiries.size >= this.maxEntries) {
      const oldest = this.expiries.keys().next();
      if (oldest.done) break;
      this.expiries.delete(oldest.value);
    }
    this.expiries.set(member, this.now() + this.ttlMs);
  }

  get size(): number {
    return this.expiries.size;
  }
}

/** How long and how many unknown key ids the authorizer remembers. */
export const UNKNOWN_KEY_TTL_MS = 30_000;
export const UNKNOWN_KEY_MAX_ENTRIES = 10_000;

/**
 * A KeyStore that remembers key ids it did not find, briefly: a client (or a script) repeating
 * a well-formed key that does not exist costs one read per TTL, not one per request. Keys are
 * never deleted, only revoked, so a remembered miss cannot hide a key that exists; the store's
 * read must be strongly consistent, or a key used right after its creation could be remembered
 * as missing.
 */
export function rememberingUnknownKeys(store: KeyStore, misses = new ExpiringSet(UNKNOWN_KEY_TTL_MS, UNKNOWN_KEY_MAX_ENTRIES)): KeyStore {
  const touchKey = store.touchKey?.bind(store);
  return {
    getKey: async (keyId) => {
      if (misses.has(keyId)) return undefined;
      const key = await store.getKey(keyId);
      if (!key) misses.add(keyId);
      return key;
    },
    getTenant: (tenantId) => store.getTenant(tenantId),
    ...(touchKey ? { touchKey } : {}),
  };
}
