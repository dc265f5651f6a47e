import { describe, expect, it } from "@jest/globals";
import { inferenceComponentName, poolEndpointName } from "../../functions/contract/sagemaker-names";
import { ConfigError, parsePlatformConfig } from "../../infra/shared/config";
import { registrySeed } from "../../infra/shared/function-env";
import { instancesFor } from "../../infra/shared/pool-capacity";

const gpuPool = { instanceType: "ml.g5.xlarge", instances: { min: 0, max: 2 } };
const placed = (placement: Record<string, unknown> = {}, over: Record<string, unknown> = {}) => ({
  version: 1,
  artifact: "a.onnx",
  placement: { pool: "gpu", accelerators: 1, cpus: 2, memoryMiB: 4096, ...placement },
  ...over,
});
const configWith = (version: Record<string, unknown>, pools: Record<string, unknown> = { gpu: gpuPool }) => ({
  pools,
  models: { iris: { versions: [version], aliases: { prod: 1 } } },
});

function issuesOf(input: unknown): readonly string[] {
  try {
    parsePlatformConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("pools and placements in the config", () => {
  it("fills placement and pool defaults, and keeps the variant layout's defaults for a version without placement", () => {
    const c = parsePlatformConfig({
      pools: { gpu: gpuPool },
      models: {
        iris: {
          versions: [
            { version: 1, artifact: "a.onnx", placement: { pool: "gpu", memoryMiB: 1024 } },
            { version: 2, artifact: "b.onnx" },
          ],
          aliases: { prod: 1 },
        },
      },
    });
    expect(c.pools.gpu).toEqual({ ...gpuPool, managedInstanceScaling: true, routingStrategy: "LEAST_OUTSTANDING_REQUESTS" });
    expect(c.models.iris?.versions[0]).toMatchObject({
      placement: {
        pool: "gpu",
        accelerators: 0,
        cpus: 1,
        memoryMiB: 1024,
        copies: { min: 1, max: 1 },
        idleSeconds: 600,
        targetConcurrentRequestsPerCopy: 4,
      },
    });
    expect(c.models.iris?.versions[0]).not.toHaveProperty("instanceType");
    expect(c.models.iris?.versions[1]).toMatchObject({
      instanceType: "ml.g5.xlarge",
      instances: { initial: 1, min: 1, max: 2 },
      targetInvocationsPerInstance: 600,
    });
    expect(c.models.iris?.versions[1]).not.toHaveProperty("placement");
  });

  it.each([
    ["an unknown pool", configWith(placed({ pool: "tpu" })), "models.iris.versions.0.placement.pool", "unknown pool 'tpu' (declared: gpu)"],
    [
      "more accelerators than one instance has",
      configWith(placed({ accelerators: 2 })),
      "models.iris.versions.0.placement.accelerators",
      "has 1",
    ],
    ["more vCPUs than one instance has", configWith(placed({ cpus: 8 })), "models.iris.versions.0.placement.cpus", "has 4"],
    [
      "more memory than one instance has",
      configWith(placed({ memoryMiB: 20_000 })),
      "models.iris.versions.0.placement.memoryMiB",
      "has 16384",
    ],
    [
      "an accelerator on a CPU pool",
      configWith(placed(), { gpu: { instanceType: "ml.c5.xlarge", instances: { min: 1, max: 1 } } }),
      "models.iris.versions.0.placement.accelerators",
      "has 0",
    ],
    [
      "an instance type the spec table does not list",
      configWith(placed(), { gpu: { instanceType: "ml.x9.xlarge", instances: { min: 1, max: 1 } } }),
      "pools.gpu.instanceType",
      "is not in infra/shared/sagemaker-instances.ts",
    ],
    [
      "copies.min above copies.max",
      configWith(placed({ copies: { min: 3, max: 2 } })),
      "models.iris.versions.0.placement.copies.min",
      "must not exceed",
    ],
    [
      "copies.initial outside min..max",
      configWith(placed({ copies: { min: 0, max: 2, initial: 3 } })),
      "models.iris.versions.0.placement.copies.initial",
      "between min and max",
    ],
    [
      "pool instances.initial outside min..max",
      configWith(placed(), { gpu: { ...gpuPool, instances: { min: 1, max: 2, initial: 3 } } }),
      "pools.gpu.instances.initial",
      "between min and max",
    ],
    [
      "a pool at zero instances without managed instance scaling",
      configWith(placed(), { gpu: { ...gpuPool, managedInstanceScaling: false } }),
      "pools.gpu.instances.min",
      "needs managedInstanceScaling",
    ],
    [
      "an LLM runtime on a CPU pool",
      configWith(placed({ accelerators: 0 }, { runtime: "lmi" }), { gpu: { instanceType: "ml.m5.xlarge", instances: { min: 1, max: 1 } } }),
      "models.iris.versions.0.placement.pool",
      "has no accelerator",
    ],
    [
      "an LLM runtime without an accelerator on a GPU pool",
      configWith(placed({ accelerators: 0 }, { runtime: "lmi" })),
      "models.iris.versions.0.placement.accelerators",
      "at least 1 for an LLM runtime",
    ],
    [
      "an LLM runtime on an Inferentia2 pool without a Neuron image",
      configWith(placed({}, { runtime: "lmi" }), { gpu: { instanceType: "ml.inf2.xlarge", instances: { min: 1, max: 1 } } }),
      "models.iris.versions.0.image",
      "Neuron",
    ],
    [
      "a tensor-parallel degree above the accelerators a copy reserves",
      configWith(placed({}, { runtime: "lmi", artifact: "s3://bucket/lm/", llm: { tensorParallelDegree: 2 } })),
      "models.iris.versions.0.llm.tensorParallelDegree",
      "exceeds the 1 accelerator(s)",
    ],
    [
      "placement beside instanceType",
      configWith(placed({}, { instanceType: "ml.g5.xlarge" })),
      "models.iris.versions.0.instanceType",
      "contradicts 'placement'",
    ],
    [
      "placement beside instances",
      configWith(placed({}, { instances: { min: 1, max: 1, initial: 1 } })),
      "models.iris.versions.0.instances",
      "contradicts 'placement'",
    ],
    [
      "copies at deploy that do not fit the pool's max instances",
      configWith(placed({ copies: { min: 3, max: 3 } })),
      "pools.gpu.instances.max",
      "need 3 instances of ml.g5.xlarge",
    ],
    ["a pool name with capitals", configWith(placed({ pool: "GPU" }), { GPU: gpuPool }), "pools.GPU", "Invalid key"],
  ])("refuses %s, naming the field", (_, input, field, message) => {
    const issue = issuesOf(input).find((i) => i.startsWith(`${field}: `));
    expect(issue).toContain(message);
  });

  it("refuses a pool whose endpoint name is a variant-layout model's endpoint name", () => {
    const issues = issuesOf({
      pools: { gpu: gpuPool },
      models: {
        "pool-gpu": { versions: [{ version: 1, artifact: "a.onnx" }], aliases: { prod: 1 } },
        iris: { versions: [placed()], aliases: { prod: 1 } },
      },
    });
    expect(issues).toEqual([expect.stringMatching(/^pools\.gpu: its endpoint name is model 'pool-gpu''s endpoint name/)]);
  });

  it("names pool endpoints and components within SageMaker's 63 characters of [a-zA-Z0-9-], deterministically", () => {
    const valid = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
    expect(poolEndpointName("modelgate", "shared")).toBe("modelgate-pool-shared");
    expect(inferenceComponentName("modelgate", "iris", 2)).toBe("modelgate-iris-v2");
    const long = inferenceComponentName("a".repeat(24), `${"m".repeat(46)}-x`, 9999);
    expect(long).toMatch(valid);
    expect(long).toHaveLength(63);
    expect(inferenceComponentName("a".repeat(24), `${"m".repeat(46)}-x`, 9999)).toBe(long);
    // Two long names that differ only past the cut stay distinct.
    expect(inferenceComponentName("a".repeat(24), `${"m".repeat(46)}-y`, 9999)).not.toBe(long);
    expect(poolEndpointName("a".repeat(24), "p".repeat(32))).toMatch(valid);
  });

  it("seeds a placed version with its pool's endpoint, variant and component, a variant version as before", () => {
    const c = parsePlatformConfig({
      name: "mg",
      pools: { gpu: gpuPool },
      models: { iris: { versions: [placed(), { version: 2, artifact: "b.onnx", instanceType: "ml.c5.xlarge" }], aliases: { prod: 1 } } },
    });
    expect(registrySeed(c, () => "s3://b/k").versions).toEqual([
      expect.objectContaining({
        version: 1,
        endpointName: "mg-pool-gpu",
        variantName: "AllTraffic",
        inferenceComponentName: "mg-iris-v1",
        instanceType: "ml.g5.xlarge",
      }),
      expect.not.objectContaining({ inferenceComponentName: expect.anything() }),
    ]);
    expect(registrySeed(c, () => "s3://b/k").versions[1]).toMatchObject({
      endpointName: "mg-iris",
      variantName: "v2",
      instanceType: "ml.c5.xlarge",
    });
  });

  it("packs copies first-fit decreasing over every resource", () => {
    const g5_12 = { vcpus: 48, memoryGiB: 192, accelerators: 4 };
    const big = { accelerators: 2, cpus: 8, memoryMiB: 65_536 };
    const small = { accelerators: 1, cpus: 2, memoryMiB: 8192 };
    // 2+1+1 GPUs on one instance, the second big copy on another.
    expect(instancesFor([small, big, small, big], g5_12)).toBe(2);
    expect(instancesFor([], g5_12)).toBe(0);
    // Memory binds on a CPU instance: 3 × 6 GiB on 16 GiB instances.
    expect(
      instancesFor(
        [1, 2, 3].map(() => ({ accelerators: 0, cpus: 1, memoryMiB: 6144 })),
        { vcpus: 8, memoryGiB: 16, accelerators: 0 },
      ),
    ).toBe(2);
  });
});
