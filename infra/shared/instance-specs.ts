import { SAGEMAKER_INSTANCES } from "./sagemaker-instances";

/** What one instance of a SageMaker instance type offers inference components. */
export interface InstanceSpec {
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** NVIDIA GPUs, or NeuronCores on ml.inf2 (what NumberOfAcceleratorDevicesRequired counts). */
  readonly accelerators: number;
  readonly accelerator?: string;
  readonly acceleratorMemoryGiB?: number;
}

const TABLE: Readonly<Record<string, InstanceSpec>> = SAGEMAKER_INSTANCES.instanceTypes;

/** Where the spec table lives, for messages that send the reader to it. */
export const INSTANCE_SPECS_FILE = "infra/shared/sagemaker-instances.ts";

export function instanceSpec(instanceType: string): InstanceSpec | undefined {
  return Object.hasOwn(TABLE, instanceType) ? TABLE[instanceType] : undefined;
}

/**
 * Instance families vLLM serves on: NVIDIA GPUs (ml.g*, ml.p*), and AWS Inferentia2 / Trainium
 * (ml.inf2, ml.trn*), which need a Neuron LMI image given as `image`.
 */
const GPU_INSTANCE = /^ml\.(g|p)\d/;
const NEURON_INSTANCE = /^ml\.(inf2|trn\d)/;

/**
 * Why an LLM runtime cannot run on `instanceType` (no accelerator, or Neuron without a Neuron
 * image), or undefined when it can.
 */
export function llmInstanceIssue(
  instanceType: string,
  image: string | undefined,
): { field: "instanceType" | "image"; message: string } | undefined {
  const neuron = NEURON_INSTANCE.test(instanceType);
  if (!GPU_INSTANCE.test(instanceType) && !neuron) {
    return {
      field: "instanceType",
      message: `'${instanceType}' has no accelerator; an LLM runtime needs a GPU instance (ml.g*, ml.p*) or Inferentia2/Trainium (ml.inf2, ml.trn*)`,
    };
  }
  if (neuron && !image) {
    return {
      field: "image",
      message: `is required on '${instanceType}' (the default LMI image is for NVIDIA GPUs; name a Neuron LMI image)`,
    };
  }
  return undefined;
}
