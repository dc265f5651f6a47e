import { SageMakerError } from "./aws-errors";

/**
 * Inference components on a pool endpoint, as the emulator routes to them: SageMaker sends a
 * call to the component named by `X-Amzn-SageMaker-Inference-Component` (the SDK's
 * `InferenceComponentName`), whatever the endpoint's variants.
 */
export interface ComponentTarget {
  readonly componentName: string;
  /** As for a variant: `sagemaker` (default) is the container contract, `openai` an OpenAI server. */
  readonly protocol?: "sagemaker" | "openai";
  /**
   * A loaded copy for one invocation, released when the call is over; undefined when the
   * component has no copy, in which case the call itself asks for one (as the cloud's
   * NoCapacityInvocationFailures alarm does) and is answered "no capacity".
   */
  acquire(): ComponentLease | undefined;
  /** Copies now and the bounds they move in, for the emulator's state report. */
  describe(): ComponentCopies;
}

export interface ComponentLease {
  readonly url: string;
  release(): void;
}

export interface ComponentCopies {
  /** 0 or 1 here: one machine runs one copy. */
  readonly currentCopies: number;
  readonly minCopies: number;
  /** `InService` with a copy, `Loading` while one starts, `ScaledToZero` with none. */
  readonly status: "InService" | "Loading" | "ScaledToZero";
  /** Where the copy's model host listens, while there is one. */
  readonly url?: string;
}

/** What the emulator reports of a component (its local-only state route and `components()`). */
export interface ComponentSnapshot extends ComponentCopies {
  readonly endpointName: string;
  readonly componentName: string;
  /** Calls that named it, and of those the ones answered "no capacity". */
  readonly invocations: number;
  readonly noCapacity: number;
}

/**
 * SageMaker's words for a call on a component with no copy (AWS ML blog, "Unlock cost savings
 * with the new scale down to zero feature in SageMaker Inference", 2024-12): a ValidationError.
 */
export function noCapacity(): SageMakerError {
  return new SageMakerError(
    "ValidationError",
    "Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress (if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API.",
  );
}

/**
 * The component a call names, with SageMaker's answers when the header and the endpoint do
 * not fit: a component endpoint needs the header, a variant endpoint refuses it (both texts as
 * SageMaker words them). An unknown name's wording is ours: we found no record of SageMaker's.
 */
export function pickComponent(
  endpointName: string,
  components: ReadonlyMap<string, ComponentTarget> | undefined,
  componentName: string | undefined,
): ComponentTarget | undefined {
  if (!components) {
    if (componentName === undefined) return undefined;
    throw new SageMakerError(
      "ValidationError",
      "Inference Component Name header is not allowed for endpoints to which you dont plan to deploy inference components. Please remove the Inference Component Name header and try again.",
    );
  }
  if (componentName === undefined) {
    throw new SageMakerError(
      "ValidationError",
      "Inference Component Name header is required for endpoints to which you plan to deploy inference components. Please include Inference Component Name header or consider using SageMaker models.",
    );
  }
  const target = components.get(componentName);
  if (!target) throw new SageMakerError("ValidationError", `Inference Component ${componentName} not found on endpoint ${endpointName}.`);
  return target;
}
