import type { InvokeRequest } from "./ports";

/** Where a model call goes: the endpoint, and the variant or (on a shared pool) the inference component. */
export type InvokeTarget = Pick<InvokeRequest, "endpointName" | "variantName" | "inferenceComponentName">;

/** The call target of a version (or of a shadow request naming one); no component field for a variant. */
export function invokeTargetOf(v: {
  readonly endpointName: string;
  readonly variantName: string;
  readonly inferenceComponentName?: string | undefined;
}): InvokeTarget {
  return {
    endpointName: v.endpointName,
    variantName: v.variantName,
    ...(v.inferenceComponentName ? { inferenceComponentName: v.inferenceComponentName } : {}),
  };
}
