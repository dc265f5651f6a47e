/** Serving runtimes. `onnx` and `tensorrt` run on NVIDIA Triton, `tgi`/`lmi` on the LLM containers. */
export const RUNTIMES = ["onnx", "tensorrt", "tgi", "lmi", "custom"] as const;
export type Runtime = (typeof RUNTIMES)[number];
/** Runtimes that serve large language models over the OpenAI-compatible LMI contract. */
export const LLM_RUNTIMES: readonly Runtime[] = ["tgi", "lmi"];
export function isLlmRuntime(runtime: Runtime): boolean {
  return LLM_RUNTIMES.includes(runtime);
}
