import { defineConfig } from "./infra/shared/config";

/**
 * The platform config: shared instance pools, models, their versions, initial aliases and
 * prices, and the gateway's settings. `npm start` serves it locally; `npx cdk deploy` provisions it on AWS.
 */
export default defineConfig({
  name: "modelgate",
  pools: {
    // One GPU instance that every demo model shares as inference components; SageMaker adds a
    // second when copies need room, and releases both when every component is idle at zero copies.
    shared: { instanceType: "ml.g5.xlarge", instances: { min: 0, max: 2, initial: 1 } },
  },
  models: {
    iris: {
      description: "Iris flower classifier (demo): float32 [N,4] features → class probabilities [N,3].",
      versions: [
        {
          version: 1,
          artifact: "models/iris/1/model.onnx",
          runtime: "onnx",
          placement: { pool: "shared", accelerators: 0, cpus: 1, memoryMiB: 1024, copies: { min: 1, max: 2 } },
        },
        {
          version: 2,
          artifact: "models/iris/2/model.onnx",
          runtime: "onnx",
          // Staging: scales to zero copies after 10 idle minutes, wakes on the next request.
          placement: { pool: "shared", accelerators: 0, cpus: 1, memoryMiB: 1024, copies: { min: 0, max: 1 }, idleSeconds: 600 },
        },
      ],
      aliases: { prod: 1, staging: 2 },
      // List prices in the platform currency; contract prices and changes: `modelgate prices set`.
      prices: [{ perRequest: "0.0001", perSecond: "0.0002" }],
    },
    tinylm: {
      description: "Demo LLM: a small neural language model trained on Moby-Dick, served over the OpenAI-compatible LMI contract.",
      // A request that names no max_tokens may generate (and reserves) this many.
      maxTokensPerRequest: 64,
      versions: [
        // The model directory (config, tokenizer, model.onnx) built by `npm run models`. ONNX is
        // what the local LLM runtime runs and vLLM does not, so the cloud leaves it out (README).
        { version: 1, artifact: "models/tinylm/1/model.onnx", runtime: "lmi", localOnly: true },
      ],
      aliases: { prod: 1 },
      prices: [{ perMillionInput: "0.15", perMillionOutput: "0.60" }],
    },
    tinyembed: {
      description:
        "Demo embedding model: latent semantic analysis over tinylm's tokens of Moby-Dick, 64-d unit vectors (docs/embeddings.md).",
      // Components come largest singular value first, so a prefix is the lower-rank model: `dimensions` applies.
      embedding: { dimensions: 64, truncatable: true },
      versions: [
        // Built by `npm run models`; the local embedding runtime runs the ONNX file, the cloud leaves it out (docs/embeddings.md).
        { version: 1, artifact: "models/tinyembed/1/model.onnx", runtime: "lmi", localOnly: true },
      ],
      aliases: { prod: 1 },
      prices: [{ perMillionInput: "0.02" }],
    },
  },
  // Every price, cost and budget is in this currency (ISO 4217).
  currency: "USD",
  gateway: {
    maxBodyBytes: 1024 * 1024,
    authorizerCacheTtlSeconds: 60,
  },
});
