import { SageMakerError } from "./aws-errors";

export interface VariantTarget {
  readonly variantName: string;
  /** Base URL of a server speaking the container contract (GET /ping, POST /invocations). */
  readonly url: string;
  /**
   * `sagemaker` (default): the container contract. `openai`: an OpenAI-compatible server, which
   * is sent the same OpenAI body on its own /v1 paths (see openai-upstream.ts).
   */
  readonly protocol?: "sagemaker" | "openai";
  /** Relative traffic weight, default 1; 0 = only reachable with TargetVariant, as in SageMaker. */
  readonly weight?: number;
}

/**
 * The variant that serves a request: the one named by X-Amzn-SageMaker-Target-Variant,
 * else a weighted random pick, as SageMaker splits traffic by InitialVariantWeight.
 */
export function pickVariant(
  endpointName: string,
  variants: readonly VariantTarget[],
  targetVariant: string | undefined,
  random: () => number = Math.random,
): VariantTarget {
  if (targetVariant !== undefined) {
    const target = variants.find((v) => v.variantName === targetVariant);
    if (!target) {
      throw new SageMakerError(
        "ValidationError",
        `Variant ${targetVariant} not found for endpoint ${endpointName}. Valid variants: ${variants.map((v) => v.variantName).join(", ")}`,
      );
    }
    return target;
  }
  const weights = variants.map((v) => Math.max(0, v.weight ?? 1));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) {
    throw new SageMakerError(
      "ValidationError",
      `Endpoint ${endpointName} has no variant with a positive weight; name one with TargetVariant`,
    );
  }
  let r = random() * total;
  for (const [i, w] of weights.entries()) {
    r -= w;
    if (r < 0 && w > 0) return variants[i] as VariantTarget;
  }
  // Floating-point leftovers land on the last weighted variant.
  return variants[weights.findLastIndex((w) => w > 0)] as VariantTarget;
}
