import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "@jest/globals";
import type { RegistryAdmin } from "../../functions/core/ports";
import type { ModelRecord, ModelVersion, VersionStatus } from "../../functions/core/registry";
import { startLocalDeployer } from "../../infra/local/deployer";
import type { ComponentTarget } from "../../infra/local/sagemaker-runtime";

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
    endpoints: {
      setEndpoint: (name) => served.push(name),
      setComponent: (name) => served.push(name),
      removeComponent: () => undefined,
    },
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

describe("the local deployer and pools", () => {
  it("serves an uploaded version on a pool as its inference component, and removes it when retired", async () => {
    const onnx = readFileSync(join(import.meta.dirname, "../../models/iris/1/model.onnx"));
    let v = version({ sha256: sha(onnx), endpointName: "mg-pool-shared", variantName: "AllTraffic", inferenceComponentName: "mg-up-v2" });
    const registry = {
      listModels: async () => ["up"],
      getModel: async (): Promise<ModelRecord> => ({ model: "up", defaultAlias: "prod", versions: new Map([[2, v]]), aliases: new Map() }),
      setVersionStatus: async () => undefined,
    } as unknown as RegistryAdmin;
    const placed: Array<[string, ComponentTarget]> = [];
    const removed: string[] = [];
    const deployer = startLocalDeployer({
      registry,
      s3: { send: async () => ({ Body: Readable.from([onnx]) }) } as unknown as S3Client,
      cacheDir: mkdtempSync(join(tmpdir(), "mg-deployer-")),
      endpoints: {
        setEndpoint: () => {
          throw new Error("a pool version is no variant");
        },
        setComponent: (endpoint, component) => placed.push([endpoint, component]),
        removeComponent: (endpoint, name) => removed.push(`${endpoint}/${name}`),
      },
      variants: new Map(),
      served: new Set(),
      intervalMs: 3_600_000,
    });
    try {
      await deployer.reconcile();
      expect(placed.map(([endpoint, c]) => [endpoint, c.componentName])).toEqual([["mg-pool-shared", "mg-up-v2"]]);
      const lease = placed[0]?.[1].acquire();
      expect((await fetch(`${lease?.url}/ping`)).status).toBe(200);
      lease?.release();

      v = { ...v, status: "retired" };
      await deployer.reconcile();
      expect(removed).toEqual(["mg-pool-shared/mg-up-v2"]);
      expect(
        await fetch(`${lease?.url}/ping`).then(
          () => "listening",
          () => "closed",
        ),
      ).toBe("closed");
    } finally {
      await deployer.stop();
    }
  });
});
