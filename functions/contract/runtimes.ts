/** Serving runtimes. `onnx` and `tensorrt` run on NVIDIA Triton, `tgi`/`lmi` on the LLM containers. */
export const RUNTIMES = ["onnx", "tensorrt", "tgi", "lmi", "custom"] as const;
export type Runtime = (typeof RUNTIMES)[number];
/** Runtimes that serve large language models over the OpenAI-compatible LMI contract. */
export const LLM_RUNTIMES: readonly Runtime[] = ["tgi", "lmi"];
/** Whether a runtime serves the OpenAI-compatible LMI contract (the registry stores runtimes as strings). */
export function isLlmRuntime(runtime: string): boolean {
  return (LLM_RUNTIMES as readonly string[]).includes(runtime);
}
