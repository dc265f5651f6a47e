import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "@jest/globals";
import type { RegistryAdmin } from "../../functions/core/ports";
import type { ModelRecord } from "../../functions/core/registry";
import { startLocalDeployer } from "../../infra/local/deployer";
import { TableWrites } from "../../infra/local/table-writes";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A deployer over a registry with nothing to deploy, counting its passes. */
function idleDeployer(registryWrites?: { writes: TableWrites; table: string }) {
  const passes: number[] = [];
  const record: ModelRecord = { model: "up", defaultAlias: "prod", versions: new Map(), aliases: new Map() };
  const registry = {
    listModels: async () => {
      passes.push(Date.now());
      return ["up"];
    },
    getModel: async () => record,
  } as unknown as RegistryAdmin;
  const deployer = startLocalDeployer({
    registry,
    s3: {} as S3Client,
    cacheDir: mkdtempSync(join(tmpdir(), "mg-deployer-")),
    endpoints: { setEndpoint: () => undefined, setComponent: () => undefined, removeComponent: () => undefined },
    variants: new Map(),
    served: new Set(),
    intervalMs: 100,
    idleIntervalMs: 1_600,
    ...(registryWrites ? { registryWrites } : {}),
  });
  return { passes, deployer };
}

describe("the local deployer on an idle registry", () => {
  it("reads it ever less often, at once after this process writes it, and stops without waiting out a pause", async () => {
    const writes = new TableWrites();
    const { passes, deployer } = idleDeployer({ writes, table: "registry" });
    const plain = idleDeployer();
    try {
      await sleep(3_500);
      // Every 100 ms: ~35 passes. Backing off (100, 200, 400, 800, 1600 ms): 5, the next due at 4.7 s.
      expect(plain.passes.length).toBeGreaterThan(15);
      expect(passes.length).toBeLessThanOrEqual(8);
      // Deep in a pause of up to 1.6 s: a write of another table changes nothing, one of the registry starts a pass.
      const before = passes.length;
      writes.notify("usage");
      await sleep(50);
      expect(passes.length).toBe(before);
      const wrote = Date.now();
      writes.notify("registry");
      await sleep(300);
      expect(passes.length).toBe(before + 1);
      expect((passes.at(-1) ?? 0) - wrote).toBeLessThan(250);
    } finally {
      const stopping = Date.now();
      await deployer.stop();
      await plain.deployer.stop();
      expect(Date.now() - stopping).toBeLessThan(500);
    }
  });
});
