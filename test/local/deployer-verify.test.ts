import { createHash } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "@jest/globals";
import type { RegistryAdmin } from "../../functions/core/ports";
import type { ModelRecord, ModelVersion, VersionStatus } from "../../functions/core/registry";
import { startLocalDeployer } from "../../infra/local/deployer";

const bytes = Buffer.from("the verified onnx bytes");
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function version(over: Partial<ModelVersion>): ModelVersion {
  return {
    model: "up",
    version: 2,
    runtime: "onnx",
    status: "ready",
    endpointName: "mg-up",
    variantName: "v2",
    artifactUri: "s3://store/models/up/2/model.onnx",
    createdAt: new Date(0).toISOString(),
    ...over,
  };
}

/** One pass of the deployer over one version whose artifact holds `stored`. */
async function deployOnce(v: ModelVersion, stored: Buffer) {
  const statuses: Array<{ from: VersionStatus; to: VersionStatus; reason?: string }> = [];
  const record: ModelRecord = { model: "up", defaultAlias: "prod", versions: new Map([[v.version, v]]), aliases: new Map() };
  const registry = {
    listModels: async () => ["up"],
    getModel: async () => record,
    setVersionStatus: async (_m: string, _v: number, from: VersionStatus, to: VersionStatus, reason?: string) => {
      statuses.push({ from, to, ...(reason ? { reason } : {}) });
    },
  } as unknown as RegistryAdmin;
  const s3 = { send: async () => ({ Body: Readable.from([stored]) }) } as unknown as S3Client;
  const served: string[] = [];
  const logs: string[] = [];
  const cacheDir = mkdtempSync(join(tmpdir(), "mg-deployer-"));
  const deployer = startLocalDeployer({
    registry,
    s3,
    cacheDir,
    endpoints: { setEndpoint: (name) => served.push(name) },
    variants: new Map(),
    served: new Set(),
    intervalMs: 3_600_000,
    log: (m) => logs.push(m),
  });
  await deployer.reconcile();
  await deployer.stop();
  return { statuses, served, logs, cached: existsSync(join(cacheDir, "up", "2", "model.onnx")) };
}

describe("the local deployer serves only verified artifacts", () => {
  it("refuses an artifact whose sha256 does not match the registry: logged, not served, marked registered, deleted", async () => {
    const r = await deployOnce(version({ sha256: sha(bytes) }), Buffer.from("other bytes swapped in"));
    expect(r.served).toEqual([]);
    expect(r.logs.join("\n")).toMatch(/could not be served: artifact sha256 is [0-9a-f]{64}, the registry says/);
    expect(r.statuses).toEqual([{ from: "ready", to: "registered", reason: expect.stringMatching(/sha256/) }]);
    expect(r.cached).toBe(false);
  });

  it("refuses a version without a sha256 in the registry", async () => {
    const r = await deployOnce(version({ status: "registered" }), bytes);
    expect(r.served).toEqual([]);
    expect(r.statuses).toEqual([{ from: "registered", to: "registered", reason: expect.stringMatching(/no sha256/) }]);
  });
});
