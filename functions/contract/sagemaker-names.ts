import { createHash } from "node:crypto";

/**
 * SageMaker resource names (endpoints, inference components, variants). SageMaker allows 63
 * characters of [a-zA-Z0-9-], starting and ending with a letter or digit; a name that would be
 * longer keeps its first 54 characters and ends in 8 hex digits of its full form's SHA-256, so
 * it stays deterministic and two long names differing only at the end still differ.
 */
const MAX_NAME = 63;

export function sagemakerName(full: string): string {
  if (full.length <= MAX_NAME) return full;
  const digest = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${full.slice(0, MAX_NAME - digest.length - 1).replace(/-+$/, "")}-${digest}`;
}

/** SageMaker endpoint name of a model in the variant layout: one endpoint per model, one variant per version. */
export function endpointName(config: { readonly name: string }, model: string): string {
  return sagemakerName(`${config.name}-${model}`);
}

/** Production variant name of a version on its model's endpoint (variant layout). */
export function variantName(version: number): string {
  return `v${version}`;
}

/** SageMaker endpoint of a shared pool, whose instances its inference components share. */
export function poolEndpointName(platformName: string, pool: string): string {
  return sagemakerName(`${platformName}-pool-${pool}`);
}

/**
 * The cost-allocation tag the stack puts on each pool endpoint (value: the endpoint's name, unique
 * in an account where a pool name is not). Activated in the Billing console, it lets Cost
 * Explorer report the pool's cost; the admin function's showback filters by it.
 */
export const POOL_COST_TAG = "modelgate:pool";

/** The one production variant of a pool's endpoint (components name it as their VariantName). */
export const POOL_VARIANT_NAME = "AllTraffic";

/** Inference component of a version placed on a pool. */
export function inferenceComponentName(platformName: string, model: string, version: number): string {
  return sagemakerName(`${platformName}-${model}-v${version}`);
}

/** The CloudWatch log group SageMaker writes an endpoint's container logs to. */
export function endpointLogGroup(endpoint: string): string {
  return `/aws/sagemaker/Endpoints/${endpoint}`;
}

/** The CloudWatch log group SageMaker writes an inference component's container logs to. */
export function componentLogGroup(component: string): string {
  return `/aws/sagemaker/InferenceComponents/${component}`;
}
