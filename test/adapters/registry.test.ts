import { describe, expect, it } from "vitest";
import { DynamoRegistry } from "../../functions/aws/registry-store";
import { ConflictError } from "../../functions/core/errors";
import { registryTable } from "../../infra/shared/tables";
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
    expect(await registry.listModels()).toEqual(["iris", "iris-b"]);
  });

  it("20 concurrent conditional updates of one revision: exactly one wins", async () => {
    const created = await registry.setAlias("iris", `race-${Date.now()}`, [{ version: 1, weight: 100 }], 0, "test");
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        registry.setAlias("iris", created.alias, [{ version: (i % 2) + 1, weight: 100 }], created.revision, `actor-${i}`),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(rejected).toHaveLength(19);
    for (const r of rejected) expect(r.reason).toBeInstanceOf(ConflictError);
    expect((await registry.getAlias("iris", created.alias))?.revision).toBe(created.revision + 1);
  });
});
