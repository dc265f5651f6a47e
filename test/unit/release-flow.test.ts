import { describe, expect, it } from "@jest/globals";
import { tokenEstimateOf } from "../../functions/core/admission";
import { validateAliasTarget } from "../../functions/core/aliases";
import { ModelFailedError, ServiceUnavailableError } from "../../functions/core/errors";
import { InferenceFailedError, type InferenceRequest, runInference } from "../../functions/core/inference";
import type { ModelInvoker, RegistryReader, UsageSink } from "../../functions/core/ports";
import type { Alias, ModelRecord, ModelVersion } from "../../functions/core/registry";
import { inShadowSample, pickWeighted, resolveVersion } from "../../functions/core/routing";
import type { ShadowRequest } from "../../functions/core/shadow";
import type { UsageRecord } from "../../functions/core/usage";
import { MemoryLimitStore } from "../support/memory-limit-store";

const version = (v: number, status: ModelVersion["status"] = "ready"): ModelVersion => ({
  model: "m",
  version: v,
  runtime: "onnx",
  status,
  endpointName: "mg-m",
  variantName: `v${v}`,
  artifactUri: `s3://b/models/m/${v}/model.onnx`,
  createdAt: "",
});
const alias = (name: string, a: Omit<Alias, "model" | "alias" | "revision" | "updatedAt" | "updatedBy">): [string, Alias] => [
  name,
  { model: "m", alias: name, revision: 1, updatedAt: "", updatedBy: "", ...a },
];
const model: ModelRecord = {
  model: "m",
  defaultAlias: "prod",
  versions: new Map([
    [1, version(1)],
    [2, version(2)],
    [3, version(3)],
    [4, version(4, "registered")],
  ]),
  aliases: new Map([
    alias("prod", { targets: [{ version: 1, weight: 100 }], fallback: 2 }),
    alias("shadowed", { targets: [{ version: 1, weight: 100 }], shadow: { version: 3, percent: 100 } }),
    alias("canary", {
      targets: [
        { version: 1, weight: 90 },
        { version: 3, weight: 10 },
      ],
    }),
  ]),
};
const registry: RegistryReader = { getModel: async (m) => (m === "m" ? model : undefined), listModels: async () => ["m"] };
const principal = { tenantId: "acme", keyId: "k1", scopes: ["invoke" as const], models: ["m"], plan: "default" };
const req = (over: Partial<InferenceRequest> = {}): InferenceRequest => ({
  requestId: "r1",
  receivedAt: 1000,
  principal,
  model: "m",
  selector: { kind: "default" },
  routingKey: "k1",
  protocol: "raw",
  body: new TextEncoder().encode("{}"),
  contentType: "application/json",
  ...over,
});
function sink(): UsageSink & { records: UsageRecord[] } {
  const records: UsageRecord[] = [];
  return {
    records,
    record: async (r) => {
      records.push(r);
      return "recorded";
    },
  };
}
/** Answers with its variant; the variants in `failing` throw the given error instead. */
const invoker = (failing: Record<string, Error> = {}): ModelInvoker => ({
  invoke: async (r) => {
    const err = failing[r.variantName];
    if (err) throw err;
    return { body: new TextEncoder().encode(`{"v":"${r.variantName}"}`), contentType: "application/json" };
  },
});

describe("weighted routing", () => {
  it("splits 2,000 routing keys within ±3 points of 90/10, and each key keeps its version", () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const v = resolveVersion(model, { kind: "alias", alias: "canary" }, `user-${i}`).version.version;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      expect(resolveVersion(model, { kind: "alias", alias: "canary" }, `user-${i}`).version.version).toBe(v);
    }
    expect(Math.abs(((counts.get(3) ?? 0) / 2000) * 100 - 10)).toBeLessThanOrEqual(3);
    expect(Math.abs(((counts.get(1) ?? 0) / 2000) * 100 - 90)).toBeLessThanOrEqual(3);
  });

  it("a key keeps its version while the weights are unchanged, and moves only when its bucket changes side", () => {
    const targets = [
      { version: 1, weight: 50 },
      { version: 2, weight: 50 },
    ];
    const before = Array.from({ length: 500 }, (_, i) => pickWeighted(targets, `k${i}`));
    expect(Array.from({ length: 500 }, (_, i) => pickWeighted(targets, `k${i}`))).toEqual(before);
  });
});

describe("alias targets", () => {
  it("refuse versions that are not ready, shadows that already serve, and a fallback equal to the target", () => {
    expect(() => validateAliasTarget(model, { targets: [{ version: 4, weight: 100 }] })).toThrow(/registered, not ready/);
    expect(() => validateAliasTarget(model, { targets: [{ version: 1, weight: 100 }], shadow: { version: 1, percent: 5 } })).toThrow(
      /a shadow must be another version/,
    );
    expect(() => validateAliasTarget(model, { targets: [{ version: 1, weight: 100 }], fallback: 1 })).toThrow(/fallback must differ/);
    expect(() => validateAliasTarget(model, { targets: [{ version: 1, weight: 100 }], fallback: 9 })).toThrow(/has no version 9/);
    expect(() =>
      validateAliasTarget(model, {
        targets: [
          { version: 1, weight: 60 },
          { version: 2, weight: 30 },
        ],
      }),
    ).toThrow(/sum to 100/);
    expect(() =>
      validateAliasTarget(model, { targets: [{ version: 2, weight: 100 }], shadow: { version: 3, percent: 10 }, fallback: 1 }),
    ).not.toThrow();
  });
});

describe("fallback", () => {
  it("answers from the fallback when the primary fails with a 5xx, and says so", async () => {
    const usage = sink();
    const out = await runInference(
      { registry, invoker: invoker({ v1: new ModelFailedError("boom") }), usage, invokeTimeoutMs: 1000 },
      req({ selector: { kind: "alias", alias: "prod" } }),
    );
    expect(out).toMatchObject({ version: 2, alias: "prod", fallbackFrom: 1 });
    expect(usage.records).toEqual([expect.objectContaining({ version: 2, status: 200 })]);
  });

  it("answers from the fallback when the primary is not ready", async () => {
    const out = await runInference(
      { registry, invoker: invoker({ v1: new ServiceUnavailableError("not ready") }), usage: sink(), invokeTimeoutMs: 1000 },
      req(),
    );
    expect(out).toMatchObject({ version: 2, fallbackFrom: 1 });
  });

  it("passes client errors through without trying the fallback", async () => {
    const { ModelInputError } = await import("../../functions/core/errors");
    const err = await runInference(
      {
        registry,
        invoker: invoker({ v1: new ModelInputError("bad tensor"), v2: new Error("must not be called") }),
        usage: sink(),
        invokeTimeoutMs: 1000,
      },
      req(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceFailedError);
    expect((err as InferenceFailedError).version).toBe(1);
    expect((err as InferenceFailedError).error).toBeInstanceOf(ModelInputError);
  });
});

describe("shadow", () => {
  it("hands a sampled copy off without waiting for it, and a failing hand-off never reaches the client", async () => {
    const handed: ShadowRequest[] = [];
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((r) => {
      release = r;
    });
    const errors: unknown[] = [];
    const out = await runInference(
      {
        registry,
        invoker: invoker(),
        usage: sink(),
        invokeTimeoutMs: 1000,
        // A dispatcher that never finishes on its own: the request must not wait for it.
        shadow: {
          dispatch: async (r) => {
            handed.push(r);
            return stuck;
          },
        },
        onShadowError: (e) => errors.push(e),
      },
      req({ selector: { kind: "alias", alias: "shadowed" } }),
    );
    expect(out.version).toBe(1);
    expect(handed).toEqual([expect.objectContaining({ version: 3, variantName: "v3", alias: "shadowed", requestId: "r1" })]);
    release();

    const failing = await runInference(
      {
        registry,
        invoker: invoker(),
        usage: sink(),
        invokeTimeoutMs: 1000,
        shadow: { dispatch: async () => Promise.reject(new Error("lambda down")) },
        onShadowError: (e) => errors.push(e),
      },
      req({ selector: { kind: "alias", alias: "shadowed" } }),
    );
    expect(failing.version).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(errors).toHaveLength(1);
  });

  it("samples about the configured share of requests, stably per request id", () => {
    const sampled = Array.from({ length: 2000 }, (_, i) => inShadowSample(`req-${i}`, 20)).filter(Boolean).length;
    expect(Math.abs(sampled / 20 - 20)).toBeLessThanOrEqual(3);
    expect(inShadowSample("req-7", 20)).toBe(inShadowSample("req-7", 20));
  });
});

describe("limits in the flow", () => {
  it("admits within the quota with x-ratelimit headers, then refuses with a 429, records the refusal, and charges nothing for it", async () => {
    const usage = sink();
    const limits = new MemoryLimitStore();
    const limited = { ...principal, limits: { monthlyRequests: 2 } };
    const deps = { registry, invoker: invoker(), usage, invokeTimeoutMs: 1000, limits };
    const a = await runInference(deps, req({ principal: limited, requestId: "a" }));
    expect(a.headers["x-ratelimit-limit-requests"]).toBe("2");
    expect(a.headers["x-ratelimit-remaining-requests"]).toBe("1");
    await runInference(deps, req({ principal: limited, requestId: "b" }));
    const refused = await runInference(deps, req({ principal: limited, requestId: "c" })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InferenceFailedError);
    const error = (refused as InferenceFailedError).error as {
      status: number;
      retryAfterSeconds?: number;
      headers?: Record<string, string>;
    };
    expect(error.status).toBe(429);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.headers?.["x-ratelimit-remaining-requests"]).toBe("0");
    expect(usage.records.map((r) => [r.requestId, r.kind ?? "billable"])).toEqual([
      ["a", "billable"],
      ["b", "billable"],
      ["c", "refused"],
    ]);
  });

  it("a limit store that fails makes the request fail closed (503), without calling the model", async () => {
    let called = false;
    const broken = new MemoryLimitStore();
    broken.charge = async () => Promise.reject(new Error("ProvisionedThroughputExceededException"));
    const err = await runInference(
      {
        registry,
        invoker: {
          invoke: async () => {
            called = true;
            return { body: new Uint8Array(), contentType: "application/json" };
          },
        },
        usage: sink(),
        invokeTimeoutMs: 1000,
        limits: broken,
      },
      req({ principal: { ...principal, limits: { ratePerSecond: 5 } } }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(called).toBe(false);
  });

  it("reads the token reservation from max_tokens in the request", () => {
    expect(tokenEstimateOf({ max_tokens: 256 })).toBe(256);
    expect(tokenEstimateOf({ inputs: [], parameters: { max_new_tokens: 64 } })).toBe(64);
    expect(tokenEstimateOf({ inputs: [] })).toBe(0);
    expect(tokenEstimateOf("nope")).toBe(0);
  });
});
