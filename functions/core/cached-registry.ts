import type { RegistryReader } from "./ports";
import type { ModelRecord } from "./registry";
import { TtlCache } from "./ttl-cache";

/**
 * Registry reads cached for a short TTL: the hot path reads a model per request, while an
 * alias move only needs to take effect within seconds. Unknown models are cached too. Entries
 * are refreshed behind the requests in the TTL's second half (TtlCache), so with steady traffic
 * no request waits for the registry table.
 */
export class CachedRegistry implements RegistryReader {
  private readonly models: TtlCache<ModelRecord | undefined>;
  private readonly catalog: TtlCache<string[]>;

  constructor(
    private readonly inner: RegistryReader,
    ttlMs: number,
    now: () => number = Date.now,
  ) {
    this.models = new TtlCache(ttlMs, now);
    this.catalog = new TtlCache(ttlMs, now);
  }

  getModel(model: string): Promise<ModelRecord | undefined> {
    return this.models.get(model, () => this.inner.getModel(model));
  }

  listModels(): Promise<string[]> {
    return this.catalog.get("", () => this.inner.listModels());
  }
}
