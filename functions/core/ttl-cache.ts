/**
 * A small read-through cache with a TTL and in-flight de-duplication, so a burst of requests
 * after expiry makes one lookup, not one per request. Time comes from `now` for tests.
 *
 * Refresh ahead: a hit on an entry past half its TTL is answered from the cache at once while
 * the entry is read again in the background, so under steady traffic no request waits for a
 * lookup, and none ever sees a value older than the TTL: only a miss, or a hit past the TTL (no
 * request came in its second half), waits. A failed refresh keeps the entry until it expires;
 * the next hit tries again. (In Lambda a refresh still in flight when the response ends
 * finishes, or fails, when the instance next runs.)
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; refreshAt: number; expires: number }>();
  private readonly pending = new Map<string, Promise<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 1000,
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    const now = this.now();
    if (hit && hit.expires > now) {
      if (hit.refreshAt <= now && !this.pending.has(key)) this.load(key, load).catch(() => undefined);
      return hit.value;
    }
    return this.pending.get(key) ?? this.load(key, load);
  }

  private load(key: string, load: () => Promise<V>): Promise<V> {
    const p = load()
      .then((value) => {
        if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.clear();
        const at = this.now();
        this.entries.set(key, { value, refreshAt: at + this.ttlMs / 2, expires: at + this.ttlMs });
        return value;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }
}
