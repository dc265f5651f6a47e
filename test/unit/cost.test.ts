import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { EXIT } from "../../cli/errors";
import { run } from "../../cli/main";

// Two pools and a variant-layout version, one local-only version. us-east-1 list prices
// (infra/shared/sagemaker-prices.ts): ml.g5.12xlarge $7.09, ml.c5.2xlarge $0.408, ml.c5.xlarge $0.204.
const config = {
  name: "costs",
  pools: {
    gpu: { instanceType: "ml.g5.12xlarge", instances: { min: 0, max: 3 } },
    cpu: { instanceType: "ml.c5.2xlarge", instances: { min: 0, max: 2 } },
  },
  models: {
    chat: {
      versions: [
        {
          version: 1,
          artifact: "s3://b/chat/1/",
          runtime: "lmi",
          placement: { pool: "gpu", accelerators: 2, cpus: 8, memoryMiB: 65536, copies: { min: 1, max: 2 } },
        },
      ],
      aliases: { prod: 1 },
    },
    vision: {
      versions: [
        {
          version: 1,
          artifact: "v1.onnx",
          placement: { pool: "gpu", accelerators: 1, cpus: 2, memoryMiB: 8192, copies: { min: 0, max: 2 } },
        },
        { version: 2, artifact: "v2.onnx", placement: { pool: "cpu", cpus: 2, memoryMiB: 4096, copies: { min: 0, max: 3, initial: 2 } } },
      ],
      aliases: { prod: 1, next: 2 },
    },
    iris: {
      versions: [
        { version: 1, artifact: "i1.onnx", instanceType: "ml.c5.xlarge", instances: { initial: 2, min: 2, max: 3 } },
        { version: 2, artifact: "i2.onnx", placement: { pool: "cpu", cpus: 1, memoryMiB: 1024, copies: { min: 0, max: 1 } } },
        { version: 3, artifact: "i3.onnx", localOnly: true },
      ],
      aliases: { prod: 1, staging: 2, local: 3 },
    },
  },
};
const dir = mkdtempSync(join(tmpdir(), "modelgate-cost-"));
const configFile = join(dir, "costs.config.mjs");
writeFileSync(configFile, `export default ${JSON.stringify(config)};\n`);

// By hand, per hour:
//   gpu standing: chat 1 copy (2 GPUs) + vision v1 woken to 1 copy (1 GPU) = 3 of 4 GPUs → 1 instance = 7.09
//   gpu floor:    chat keeps 1 copy, vision v1 at 0                            → 1 instance = 7.09
//   cpu standing: vision v2 1 copy (2 vCPU, 4 GiB) + iris v2 1 copy (1 vCPU, 1 GiB) of 8 vCPU/16 GiB → 1 = 0.408
//   cpu floor:    both at 0 copies, pool min 0                                 → 0 instances = 0
//   iris v1 variant: 2 × 0.204 = 0.408 (standing and floor)
//   standing = 7.09 + 0.408 + 0.408 = 7.906       → × 730 = 5771.38 a month
//   floor    = 7.09 + 0     + 0.408 = 7.498       → × 730 = 5473.54
//   one variant per version: chat 7.09 + vision v1 7.09 + vision v2 0.408 + iris v1 2 × 0.204 + iris v2 0.408
//            = 15.404                              → × 730 = 11244.92
// iris v3 is local-only: left out.

async function cost(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const code = await run(["node", "modelgate", ...args]);
  jest.restoreAllMocks();
  return { code, stdout, stderr };
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe("modelgate cost", () => {
  it("--json: pools at standing and idle instances, the variant, the one-variant-per-version layout, what it left out", async () => {
    const { code, stdout } = await cost("--json", "cost", "--config", configFile);
    expect(code).toBe(EXIT.ok);
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({ region: "us-east-1", currency: "USD", hoursPerMonth: 730, prices: { asOf: expect.any(String) } });
    expect(r.pools).toEqual([
      expect.objectContaining({ pool: "gpu", instanceType: "ml.g5.12xlarge", pricePerHour: 7.09, standingInstances: 1, floorInstances: 1 }),
      expect.objectContaining({ pool: "cpu", instanceType: "ml.c5.2xlarge", pricePerHour: 0.408, standingInstances: 1, floorInstances: 0 }),
    ]);
    expect(r.variants).toEqual([
      {
        model: "iris",
        version: 1,
        instanceType: "ml.c5.xlarge",
        instances: 2,
        pricePerHour: 0.204,
        cost: { perHour: 0.408, perMonth: 297.84 },
      },
    ]);
    expect(r.standing).toEqual({ perHour: 7.906, perMonth: 5771.38 });
    expect(r.floor).toEqual({ perHour: 7.498, perMonth: 5473.54 });
    expect(r.onePerVersion).toMatchObject({ perHour: 15.404, perMonth: 11244.92 });
    expect(r.onePerVersion.versions).toHaveLength(5);
    expect(r.excluded).toEqual([{ model: "iris", version: 3, reason: expect.stringContaining("localOnly") }]);
    expect(r.notes).toEqual([
      "pool 'gpu' could go to 0 instances, but chat v1 keep(s) copies (copies.min > 0)",
      "pool 'cpu': managed instance scaling releases its last instance when every component on it is at zero copies",
    ]);
  });

  it("prints the same figures as a table", async () => {
    const { code, stdout } = await cost("cost", "--config", configFile, "--region", "us-east-1");
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(
      /^gpu\s+ml\.g5\.12xlarge\s+\$7\.09\s+1\s+\$7\.09\s+\$5175\.70\s+1\s+\$5175\.70\s+chat v1 \(1-2\), vision v1 \(0-2\)$/m,
    );
    expect(stdout).toMatch(
      /^cpu\s+ml\.c5\.2xlarge\s+\$0\.408\s+1\s+\$0\.41\s+\$297\.84\s+0\s+\$0\.00\s+vision v2 \(0-3\), iris v2 \(0-1\)$/m,
    );
    expect(stdout).toMatch(/^this config \(components awake at their minimum\)\s+\$7\.91\s+\$5771\.38$/m);
    expect(stdout).toMatch(/^floor \(every scale-to-zero component idle\)\s+\$7\.50\s+\$5473\.54$/m);
    expect(stdout).toMatch(/^one endpoint variant per version \(5 versions\)\s+\$15\.40\s+\$11244\.92$/m);
    expect(stdout).toContain("excluded: iris v3 (localOnly");
  });

  it("refuses a region the price table does not have, naming the ones it has", async () => {
    const { code, stderr } = await cost("cost", "--config", configFile, "--region", "ap-south-2");
    expect(code).toBe(EXIT.badArguments);
    expect(stderr).toContain("no price table for region 'ap-south-2'");
    expect(stderr).toContain("us-east-1, us-west-2, eu-west-1");
  });

  it("says so when the config is invalid or missing", async () => {
    const bad = join(dir, "bad.config.mjs");
    writeFileSync(bad, `export default ${JSON.stringify({ ...config, pools: {} })};\n`);
    const invalid = await cost("cost", "--config", bad);
    expect(invalid.code).toBe(EXIT.config);
    expect(invalid.stderr).toContain("models.chat.versions.0.placement.pool: unknown pool 'gpu'");
    expect((await cost("cost", "--config", join(dir, "none.mjs"))).code).toBe(EXIT.config);
  });

  it("--by tenant (showback) checks its month before it calls the platform; --month alone is refused", async () => {
    const noMonth = await cost("cost", "--config", configFile, "--month", "2026-12");
    expect(noMonth.code).toBe(EXIT.badArguments);
    expect(noMonth.stderr).toContain("--month needs --by tenant");
    const badMonth = await cost("cost", "--by", "tenant", "--month", "2026-13", "--data-dir", join(dir, "no-platform"));
    expect(badMonth.code).toBe(EXIT.badArguments);
    expect(badMonth.stderr).toContain("--month must be YYYY-MM");
    expect((await cost("cost", "--by", "model")).code).toBe(EXIT.badArguments);
  });
});
