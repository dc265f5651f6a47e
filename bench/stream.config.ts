import { defineConfig } from "../infra/shared/config";

/**
 * The streaming benchmark's platform (`bench/stream-relay.ts`): one LLM whose version is the fake
 * OpenAI engine the benchmark starts (`MODELGATE_BENCH_ENGINE_URL`), priced per token so every
 * relayed stream is metered and priced as a real one is.
 */
export default defineConfig({
  name: "mgbench",
  pools: { shared: { instanceType: "ml.g5.xlarge", instances: { min: 0, max: 1, initial: 1 } } },
  models: {
    "fake-llm": {
      maxTokensPerRequest: 256,
      versions: [
        {
          version: 1,
          artifact: "../models/tinylm/1/model.onnx",
          runtime: "lmi",
          localUrl: process.env.MODELGATE_BENCH_ENGINE_URL ?? "http://127.0.0.1:9",
          localApi: "openai",
        },
      ],
      aliases: { prod: 1 },
      prices: [{ perMillionInput: "0.15", perMillionOutput: "0.60" }],
    },
  },
  currency: "USD",
  gateway: { maxBodyBytes: 1024 * 1024, authorizerCacheTtlSeconds: 60, rateLimitPerSecond: 100000, burstLimit: 100000 },
});
