import { defineConfig } from "./infra/shared/config";

/**
 * The platform config: models, their versions and initial aliases, and the gateway's settings.
 * `npm start` serves it locally; `npx cdk deploy` provisions it on AWS.
 */
export default defineConfig({
  name: "modelgate",
  models: {
    iris: {
      description: "Iris flower classifier (demo): float32 [N,4] features → class probabilities [N,3].",
      versions: [
        { version: 1, artifact: "models/iris/1/model.onnx", runtime: "onnx", instanceType: "ml.g5.xlarge" },
        { version: 2, artifact: "models/iris/2/model.onnx", runtime: "onnx", instanceType: "ml.g5.xlarge" },
      ],
      aliases: { prod: 1, staging: 2 },
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
    },
  },
  gateway: {
    maxBodyBytes: 1024 * 1024,
    authorizerCacheTtlSeconds: 60,
  },
});
