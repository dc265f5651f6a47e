import { describe, expect, it } from "@jest/globals";
import { CachedRegistry } from "../../functions/core/cached-registry";
import type { RegistryReader } from "../../functions/core/ports";
import type { ModelRecord } from "../../functions/core/registry";
import { TtlCache } from "../../functions/core/ttl-cache";

/** A lookup answering what `values` holds when it is called, counting calls; after `hold`, answers wait for `release`. */
function lookup(values: { current: string | Error }) {
  let calls = 0;
  let held: Array<() => void> | undefined;
  const load = () => {
    calls++;
    const answer = values.current;
    return new Promise<string>((resolve, reject) => {
      const settle = () => (answer instanceof Error ? reject(answer) : resolve(answer));
      if (held) held.push(settle);
      else settle();
    });
  };
  return {
    load,
    count: () => calls,
    hold: () => {
      held = [];
    },
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const settle of waiting) settle();
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

/** A 1-s cache of key "m" on a clock the test moves, over a lookup answering `values.current`. */
function cacheOver(first: string) {
  const clock = { t: 0 };
  const values: { current: string | Error } = { current: first };
  const source = lookup(values);
  const cache = new TtlCache<string>(1000, () => clock.t);
  return { clock, values, source, get: () => cache.get("m", source.load) };
}

describe("the read-through TTL cache", () => {
  it("loads a missing key once for every concurrent caller, then answers from memory until half its TTL", async () => {
    const { clock, values, source, get } = cacheOver("v1");
    source.hold();
    const waiting = [get(), get(), get()];
    source.release();
    expect(await Promise.all(waiting)).toEqual(["v1", "v1", "v1"]);
    values.current = "v2";
    clock.t = 499;
    expect(await get()).toBe("v1");
    await flush();
    expect(source.count()).toBe(1);
  });

  it("answers a hit in the TTL's second half at once and refreshes it behind the request, once", async () => {
    const { clock, values, source, get } = cacheOver("v1");
    await get();
    values.current = "v2";
    source.hold();
    clock.t = 600;
    // The caller is not held by the lookup: the cached value comes back while the refresh waits.
    expect(await get()).toBe("v1");
    expect(await get()).toBe("v1");
    expect(source.count()).toBe(2);
    source.release();
    await flush();
    expect(await get()).toBe("v2");
    // The refreshed entry's own TTL runs from the refresh.
    clock.t = 1500;
    expect(await get()).toBe("v2");
    await flush();
    expect(source.count()).toBe(3);
  });

  it("never answers a value older than its TTL: a hit past it waits for the lookup", async () => {
    const { clock, values, get } = cacheOver("v1");
    await get();
    values.current = "v2";
    clock.t = 1000;
    expect(await get()).toBe("v2");
  });

  it("keeps an entry whose refresh failed until it expires, and then fails the caller that waits", async () => {
    const { clock, values, source, get } = cacheOver("v1");
    await get();
    values.current = new Error("table unreachable");
    clock.t = 700;
    expect(await get()).toBe("v1");
    await flush();
    // The next hit tries again, and is answered from the cache again.
    expect(await get()).toBe("v1");
    await flush();
    expect(source.count()).toBe(3);
    clock.t = 1001;
    await expect(get()).rejects.toThrow("table unreachable");
    values.current = "v3";
    expect(await get()).toBe("v3");
  });

  it("serves a registry's moved alias within the TTL, and no request waits for it while traffic is steady", async () => {
    let t = 0;
    let version = 1;
    let reads = 0;
    // Every read after the first is slow: it answers only when the test lets it.
    const slow: Array<() => void> = [];
    const record = (v: number): ModelRecord => ({
      model: "llama",
      defaultAlias: "prod",
      versions: new Map(),
      aliases: new Map([
        ["prod", { model: "llama", alias: "prod", targets: [{ version: v, weight: 100 }], revision: v, updatedAt: "", updatedBy: "op" }],
      ]),
    });
    const inner: RegistryReader = {
      getModel: async () => {
        const v = version;
        if (reads++ > 0) await new Promise<void>((r) => slow.push(r));
        return record(v);
      },
      listModels: async () => ["llama"],
    };
    const registry = new CachedRegistry(inner, 5000, () => t);
    const prod = async () => (await registry.getModel("llama"))?.aliases.get("prod")?.targets[0]?.version;
    expect(await prod()).toBe(1);
    version = 2;
    // A request a second: each is answered before any slow read does, and the move shows within 5 s.
    const seen: Array<number | "waited" | undefined> = [];
    for (t = 1000; t <= 8000; t += 1000) {
      seen.push(await Promise.race([prod(), flush().then(() => "waited" as const)]));
      for (const answer of slow.splice(0)) answer();
      await flush();
    }
    expect(seen).not.toContain("waited");
    expect(seen.indexOf(2)).toBeGreaterThan(0);
    expect(seen.indexOf(2)).toBeLessThanOrEqual(4);
    expect(seen.slice(seen.indexOf(2)).every((v) => v === 2)).toBe(true);
    expect(reads).toBeLessThanOrEqual(5);
  });
});
