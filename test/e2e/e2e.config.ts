import { defineConfig } from "../../infra/shared/config";

/** Port 9 (discard) has no listener here: a container that cannot be reached. */
const UNREACHABLE = "http://127.0.0.1:9";

/** The platform the end-to-end suites run against: the demo model with test-sized limits. */
export default defineConfig({
  name: "mge2e",
  // One pool for the inference-component suite (components.test.ts); global-setup shortens idle times to 1 s.
  pools: { shared: { instanceType: "ml.g5.xlarge", instances: { min: 0, max: 1, initial: 1 } } },
  models: {
    iris: {
      description: "iris for e2e",
      versions: [
        { version: 1, artifact: "../../models/iris/1/model.onnx" },
        { version: 2, artifact: "../../models/iris/2/model.onnx" },
      ],
      aliases: {
        prod: 1,
        staging: 2,
        canary: [
          { version: 1, weight: 70 },
          { version: 2, weight: 30 },
        ],
      },
    },
    // The alias suite moves prod here, so suites that count per version on iris never see it move.
    "iris-al": {
      versions: [
        { version: 1, artifact: "../../models/iris/1/model.onnx" },
        { version: 2, artifact: "../../models/iris/2/model.onnx" },
      ],
      aliases: { prod: 1 },
    },
    // The console's browser suites move and roll back this one's prod alias.
    "iris-ui": {
      versions: [
        { version: 1, artifact: "../../models/iris/1/model.onnx" },
        { version: 2, artifact: "../../models/iris/2/model.onnx" },
      ],
      aliases: { prod: 1 },
    },
    "iris-b": {
      versions: [{ version: 1, artifact: "../../models/iris/2/model.onnx" }],
      aliases: { prod: 1 },
    },
    // The price suite prices this one, so its list-price moves reach no other suite's records.
    "iris-pr": {
      versions: [{ version: 1, artifact: "../../models/iris/1/model.onnx" }],
      aliases: { prod: 1 },
      prices: [{ perRequest: "0.0005", perSecond: "0.0001" }],
    },
    // Upload tests add versions here, so other suites see iris unchanged.
    "iris-up": {
      versions: [{ version: 1, artifact: "../../models/iris/1/model.onnx" }],
      aliases: { prod: 1 },
    },
    // Fault injection: v1 always answers 500, v3 answers after 1.5 s, v4's container is unreachable.
    "iris-fx": {
      versions: [
        { version: 1, artifact: "../../models/iris/1/model.onnx", localUrl: process.env.MG_E2E_FAILING_URL ?? UNREACHABLE },
        { version: 2, artifact: "../../models/iris/2/model.onnx" },
        { version: 3, artifact: "../../models/iris/2/model.onnx", localUrl: process.env.MG_E2E_SLOW_URL ?? UNREACHABLE },
        { version: 4, artifact: "../../models/iris/2/model.onnx", localUrl: UNREACHABLE },
      ],
      aliases: { prod: 2 },
    },
    // Inference components on the pool: v1 keeps a copy, v2 scales to zero when idle.
    "iris-ic": {
      versions: [
        {
          version: 1,
          artifact: "../../models/iris/1/model.onnx",
          placement: { pool: "shared", memoryMiB: 1024, copies: { min: 1, max: 1 } },
        },
        {
          version: 2,
          artifact: "../../models/iris/2/model.onnx",
          placement: { pool: "shared", memoryMiB: 1024, copies: { min: 0, max: 1 }, idleSeconds: 60 },
        },
      ],
      aliases: { prod: 1, cold: 2 },
    },
    // The demo LLM, and the same model behind a host that emits a token every 100 ms.
    tinylm: {
      maxTokensPerRequest: 16,
      versions: [{ version: 1, artifact: "../../models/tinylm/1/model.onnx", runtime: "lmi" }],
      aliases: { prod: 1 },
    },
    // The demo LLM as a scale-to-zero component: its model host process is closed when idle.
    "tinylm-ic": {
      maxTokensPerRequest: 16,
      versions: [
        {
          version: 1,
          artifact: "../../models/tinylm/1/model.onnx",
          runtime: "lmi",
          placement: { pool: "shared", accelerators: 1, memoryMiB: 2048, copies: { min: 0, max: 1 }, idleSeconds: 60 },
        },
      ],
      aliases: { prod: 1 },
    },
    // The demo embedding model: v1 its own variant, v2 a component on the shared pool (`staging`;
    // CPU-only, which the cloud would refuse for an LLM runtime, hence local-only).
    tinyembed: {
      embedding: { dimensions: 64, truncatable: true },
      versions: [
        { version: 1, artifact: "../../models/tinyembed/1/model.onnx", runtime: "lmi" },
        {
          version: 2,
          artifact: "../../models/tinyembed/1/model.onnx",
          runtime: "lmi",
          localOnly: true,
          placement: { pool: "shared", accelerators: 0, cpus: 1, memoryMiB: 1024, copies: { min: 1, max: 1 } },
        },
      ],
      aliases: { prod: 1, staging: 2 },
      prices: [{ perMillionInput: "0.02" }],
    },
    "tinylm-slow": {
      versions: [
        {
          version: 1,
          artifact: "../../models/tinylm/1/model.onnx",
          runtime: "lmi",
          localUrl: process.env.MG_E2E_SLOW_LLM_URL ?? UNREACHABLE,
          localApi: "sagemaker",
        },
      ],
      aliases: { prod: 1 },
    },
  },
  gateway: {
    maxBodyBytes: 64 * 1024,
    // Short, so revocation tests need not wait a minute.
    authorizerCacheTtlSeconds: 2,
    rateLimitPerSecond: 100_000,
    burstLimit: 100_000,
  },
});
