import { describe, expect, it } from "@jest/globals";
import { DynamoRegistry } from "../../functions/aws/registry-store";
import { registryTable } from "../../functions/contract/tables";
import { ConflictError } from "../../functions/core/errors";
import { e2eTable, localDocumentClient } from "./dynamo";

const registry = new DynamoRegistry(localDocumentClient(), e2eTable(registryTable));

describe("DynamoRegistry (DynamoDB Local)", () => {
  it("reads a seeded model with versions, aliases and signatures", async () => {
    const m = await registry.getModel("iris");
    expect(m?.defaultAlias).toBe("prod");
    expect([...(m?.versions.keys() ?? [])]).toEqual([1, 2]);
    expect(m?.versions.get(1)?.inputs?.[0]?.name).toBe("input");
    expect(m?.versions.get(1)?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await registry.getModel("missing")).toBeUndefined();
    expect(await registry.listModels()).toEqual([
      "iris",
      "iris-al",
      "iris-b",
      "iris-fx",
      "iris-ic",
      "iris-pr",
      "iris-ui",
      "iris-up",
      "tinyembed",
      "tinylm",
      "tinylm-ic",
      "tinylm-slow",
    ]);
  });

  it("reads an embedding model's declared vectors as seeded, and none for the others", async () => {
    expect((await registry.getModel("tinyembed"))?.embedding).toEqual({ dimensions: 64, truncatable: true });
    expect((await registry.getModel("tinylm"))?.embedding).toBeUndefined();
  });

  it("reads a version placed on a pool with its pool endpoint and inference component", async () => {
    const m = await registry.getModel("iris-ic");
    expect(m?.versions.get(2)).toMatchObject({ endpointName: "mge2e-pool-shared", inferenceComponentName: "mge2e-iris-ic-v2" });
    expect(m?.versions.get(2)?.inputs?.[0]?.name).toBe("input");
    const variant = (await registry.getModel("iris"))?.versions.get(1);
    expect(variant).toMatchObject({ endpointName: "mge2e-iris", variantName: "v1" });
    expect(variant).not.toHaveProperty("inferenceComponentName");
  });

  it("20 concurrent conditional updates of one revision: exactly one wins", async () => {
    const created = await registry.setAlias("iris", `race-${Date.now()}`, { targets: [{ version: 1, weight: 100 }] }, 0, "test");
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        registry.setAlias("iris", created.alias, { targets: [{ version: (i % 2) + 1, weight: 100 }] }, created.revision, `actor-${i}`),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(rejected).toHaveLength(19);
    for (const r of rejected) expect(r.reason).toBeInstanceOf(ConflictError);
    expect((await registry.getAlias("iris", created.alias))?.revision).toBe(created.revision + 1);
    const history = await registry.aliasHistory("iris", created.alias, 10);
    expect(history.map((h) => h.revision)).toEqual([2, 1]);
    expect(history[0]?.from).toEqual({ targets: [{ version: 1, weight: 100 }] });
  });

  it("stores shadow and fallback with the alias and in its history", async () => {
    const target = { targets: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 25 }, fallback: 2 };
    const a = await registry.setAlias("iris", `sf-${Date.now()}`, target, 0, "test");
    expect(await registry.getAlias("iris", a.alias)).toMatchObject(target);
    expect((await registry.aliasHistoryEntry("iris", a.alias, 1))?.to).toEqual(target);
  });

  it("registers a version once; a second registration of the number is a conflict; status moves only from the expected one", async () => {
    const model = "iris-b";
    const version = 9000 + Math.floor(Math.random() * 900);
    const v = {
      model,
      version,
      runtime: "onnx",
      status: "registered" as const,
      endpointName: "mge2e-iris-b",
      variantName: `v${version}`,
      artifactUri: `s3://mge2e-models/models/${model}/${version}/model.onnx`,
      sha256: "0".repeat(64),
      size: 10,
      createdAt: new Date().toISOString(),
    };
    await registry.registerVersion(v);
    await expect(registry.registerVersion(v)).rejects.toBeInstanceOf(ConflictError);
    await expect(registry.registerVersion({ ...v, model: "no-such-model" })).rejects.toThrow(/does not exist/);
    await registry.setVersionStatus(model, version, "registered", "retired", "test");
    await expect(registry.setVersionStatus(model, version, "registered", "ready")).rejects.toBeInstanceOf(ConflictError);
    expect((await registry.getModel(model))?.versions.get(version)).toMatchObject({ status: "retired", statusReason: "test", size: 10 });
  });
});
