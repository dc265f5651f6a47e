import { defineConfig } from "../../infra/shared/config";

/** The platform the end-to-end suites run against: the demo model with test-sized limits. */
export default defineConfig({
  name: "mge2e",
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
    "iris-b": {
      versions: [{ version: 1, artifact: "../../models/iris/2/model.onnx" }],
      aliases: { prod: 1 },
    },
  },
  limits: {
    maxBodyBytes: 64 * 1024,
    // Short, so revocation tests need not wait a minute.
    authorizerCacheTtlSeconds: 2,
    rateLimitPerSecond: 100_000,
    burstLimit: 100_000,
  },
});
