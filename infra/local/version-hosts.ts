import { dirname } from "node:path";
import { isLlmRuntime } from "../../functions/contract/runtimes";
import type { VersionConfig } from "../shared/config-schema";
import { isEmbeddingModelDir, type ModelSignature, startEmbeddingModelHost, startLlmModelHost, startOnnxModelHost } from "./model-host";

/** A running model host of one version (the "container"); `close` releases its model. */
export interface VersionHost {
  readonly url: string;
  /** The ONNX model's tensors, when this host read them. */
  readonly signature?: ModelSignature;
  close(): Promise<void>;
}

/** How to start hosts of one version, and what they speak. */
export interface VersionHostStarter {
  readonly start: () => Promise<VersionHost>;
  readonly protocol?: "openai";
}

/**
 * What serves a version on this machine: its `localUrl` (a server someone else runs, never
 * closed here), the LLM model host over its model directory, or the ONNX model host over
 * `onnxFile` (the artifact as fetched back from the model store, as SageMaker serves it).
 * Starting is deferred, so a scale-to-zero component can start and close hosts as use comes
 * and goes; a variant starts one at once.
 */
export function versionHostStarter(
  model: string,
  v: VersionConfig,
  files: { readonly artifact?: string | undefined; readonly onnxFile?: string | undefined },
): VersionHostStarter {
  const api = v.localApi ?? (v.localUrl && isLlmRuntime(v.runtime) ? "openai" : "sagemaker");
  const protocol = api === "openai" ? { protocol: "openai" as const } : {};
  const { localUrl } = v;
  if (localUrl) return { start: async () => ({ url: localUrl, close: async () => undefined }), ...protocol };
  const { artifact, onnxFile } = files;
  if (isLlmRuntime(v.runtime) && artifact) {
    // An LLM is a Hugging Face style directory (config, tokenizer, model.onnx), served where it
    // lies; like vLLM, the host serves what the directory's config.json says the model is.
    const modelDir = dirname(artifact);
    const host = { modelDir, modelName: model, version: v.version };
    return {
      start: async () => ((await isEmbeddingModelDir(modelDir)) ? startEmbeddingModelHost(host) : startLlmModelHost(host)),
      ...protocol,
    };
  }
  if (onnxFile) return { start: () => startOnnxModelHost({ modelPath: onnxFile, modelName: model, version: v.version }), ...protocol };
  throw new Error(`models.${model} version ${v.version}: an s3:// or hf:// artifact needs 'localUrl' on the local host`);
}
