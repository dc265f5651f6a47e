import { describe, expect, it } from "@jest/globals";
import { authorizeKey } from "../../functions/core/authorize";
import { ForbiddenError, ModelFailedError, NotFoundError, ServiceUnavailableError, UnauthorizedError } from "../../functions/core/errors";
import { InferenceFailedError, type InferenceRequest, runInference } from "../../functions/core/inference";
import { generateApiKey } from "../../functions/core/key-format";
import { lookupGrantedModel } from "../../functions/core/model-access";
import type { KeyStore, ModelInvoker, RegistryReader, StoredKey, Tenant, UsageSink } from "../../functions/core/ports";
import type { ModelRecord } from "../../functions/core/registry";
import type { UsageRecord } from "../../functions/core/usage";

const model: ModelRecord = {
  model: "iris",
  defaultAlias: "prod",
  versions: new Map([
    [
      1,
      {
        model: "iris",
        version: 1,
        runtime: "onnx",
        status: "ready",
        endpointName: "mg-iris",
        variantName: "v1",
        artifactUri: "s3://b/k",
        createdAt: "",
      },
    ],
  ]),
  aliases: new Map([
    ["prod", { model: "iris", alias: "prod", targets: [{ version: 1, weight: 100 }], revision: 1, updatedAt: "", updatedBy: "" }],
  ]),
};
const registry: RegistryReader = { getModel: async (m) => (m === "iris" ? model : undefined), listModels: async () => ["iris"] };
const principal = { tenantId: "acme", keyId: "k1", scopes: ["invoke" as const], models: ["iris"], plan: "default" };
const request: InferenceRequest = {
  requestId: "r1",
  receivedAt: 1000,
  principal,
  model: "iris",
  selector: { kind: "default" },
  routingKey: "k1",
  protocol: "kserve",
  json: { inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] },
  body: new TextEncoder().encode("{}"),
  contentType: "application/json",
};

function sink(fail = false): UsageSink & { records: UsageRecord[] } {
  const records: UsageRecord[] = [];
  return {
    records,
    record: async (r) => {
      if (fail) throw new Error("throttled");
      records.push(r);
      return "recorded";
    },
  };
}
const answering: ModelInvoker = {
  invoke: async (req) => ({ body: new TextEncoder().encode(`{"v":"${req.variantName}"}`), contentType: "application/json" }),
};

describe("the inference flow", () => {
  it("calls the alias's variant and records exactly one usage record", async () => {
    const usage = sink();
    const out = await runInference({ registry, invoker: answering, usage, invokeTimeoutMs: 1000, now: () => 1025 }, request);
    expect(new TextDecoder().decode(out.body)).toBe('{"v":"v1"}');
    expect(out).toMatchObject({ version: 1, alias: "prod" });
    expect(usage.records).toEqual([
      expect.objectContaining({ requestId: "r1", tenantId: "acme", keyId: "k1", version: 1, alias: "prod", status: 200, latencyMs: 25 }),
    ]);
  });

  it("records a model failure (it reached the model) and reports it with the version", async () => {
    const usage = sink();
    const failing: ModelInvoker = { invoke: async () => Promise.reject(new ModelFailedError("boom")) };
    const err = await runInference({ registry, invoker: failing, usage, invokeTimeoutMs: 1000 }, request).catch((e) => e);
    expect(err).toBeInstanceOf(InferenceFailedError);
    expect(err.error).toBeInstanceOf(ModelFailedError);
    expect(usage.records.map((r) => r.status)).toEqual([502]);
  });

  it("does not meter a model that was not ready", async () => {
    const usage = sink();
    const notReady: ModelInvoker = { invoke: async () => Promise.reject(new ServiceUnavailableError("not ready")) };
    await expect(runInference({ registry, invoker: notReady, usage, invokeTimeoutMs: 1000 }, request)).rejects.toBeInstanceOf(
      InferenceFailedError,
    );
    expect(usage.records).toEqual([]);
  });

  it("fails closed with 503 when usage cannot be recorded", async () => {
    const err = await runInference({ registry, invoker: answering, usage: sink(true), invokeTimeoutMs: 1000 }, request).catch((e) => e);
    expect(err.error).toBeInstanceOf(ServiceUnavailableError);
  });

  it("refuses before the model: missing scope (403)", async () => {
    const usage = sink();
    await expect(
      runInference({ registry, invoker: answering, usage, invokeTimeoutMs: 1 }, { ...request, principal: { ...principal, scopes: [] } }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(usage.records).toEqual([]);
  });

  it("answers an ungranted model exactly like a missing one (404), without reading the registry", async () => {
    const reads: string[] = [];
    const counting: RegistryReader = {
      ...registry,
      getModel: async (m) => {
        reads.push(m);
        return registry.getModel(m);
      },
    };
    const usage = sink();
    const deps = { registry: counting, invoker: answering, usage, invokeTimeoutMs: 1 };
    const other = { ...principal, models: ["other"] };
    const ungranted = await runInference(deps, { ...request, principal: other }).catch((e) => e);
    const missing = await runInference(deps, { ...request, principal: { ...principal, models: ["*"] }, model: "nope" }).catch((e) => e);
    expect(ungranted).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(ungranted.message.replace("iris", "X")).toBe(missing.message.replace("nope", "X"));
    expect(ungranted.message).not.toContain("acme");
    expect(reads).toEqual(["nope"]);
    await expect(lookupGrantedModel(counting, other, "iris")).rejects.toBeInstanceOf(NotFoundError);
    expect(usage.records).toEqual([]);
  });
});

describe("key authorization", () => {
  const key = generateApiKey();
  const tenant: Tenant = {
    tenantId: "acme",
    name: "Acme",
    models: ["iris"],
    plan: "default",
    status: "active",
    createdAt: "",
    revision: 1,
  };
  const stored: StoredKey = {
    keyId: key.keyId,
    tenantId: "acme",
    secretHash: key.secretHash,
    scopes: ["invoke"],
    status: "active",
    createdAt: "",
  };
  function store(k: Partial<StoredKey> = {}, t: Partial<Tenant> = {}): KeyStore & { reads: number } {
    const s = {
      reads: 0,
      getKey: async (id: string) => {
        s.reads++;
        return id === key.keyId ? { ...stored, ...k } : undefined;
      },
      getTenant: async () => ({ ...tenant, ...t }),
    };
    return s;
  }

  it("allows a good key with the tenant's grants", async () => {
    expect(await authorizeKey(store(), key.apiKey)).toEqual({
      tenantId: "acme",
      keyId: key.keyId,
      scopes: ["invoke"],
      models: ["iris"],
      plan: "default",
    });
  });

  it("refuses a bad checksum without a read", async () => {
    const s = store();
    await expect(authorizeKey(s, `${key.apiKey.slice(0, -1)}${key.apiKey.endsWith("A") ? "B" : "A"}`)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(s.reads).toBe(0);
  });

  it("refuses revoked and expired keys and disabled tenants", async () => {
    await expect(authorizeKey(store({ status: "revoked" }), key.apiKey)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(authorizeKey(store({ expiresAt: new Date(Date.now() - 1000).toISOString() }), key.apiKey)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    await expect(authorizeKey(store({}, { status: "disabled" }), key.apiKey)).rejects.toBeInstanceOf(UnauthorizedError);
    const other = generateApiKey();
    await expect(authorizeKey(store({ secretHash: other.secretHash }), key.apiKey)).rejects.toBeInstanceOf(UnauthorizedError);
  });
});
