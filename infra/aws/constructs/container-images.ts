import { CfnMapping, Fn, type Stack, Token } from "aws-cdk-lib";
import { RegionInfo } from "aws-cdk-lib/region-info";
import type { Runtime } from "../../../functions/contract/runtimes";

/**
 * Serving images by runtime, resolved per region at deploy time.
 *
 * AWS publishes the SageMaker Triton, LMI (DJL) and Hugging Face TGI containers from the
 * Deep Learning Containers registries, one ECR account per region (the same map the
 * SageMaker Python SDK ships in `image_uri_config/*.json`). The stack is environment-agnostic,
 * so the account is looked up with `Fn::FindInMap` on `AWS::Region`; when the stack has a
 * concrete region the mapping is resolved at synth instead (lazy CfnMapping).
 */

/**
 * Repository and tag of each AWS-provided container. Override per version with `image`.
 *
 * LMI, checked 2026-12-01 against the AWS Deep Learning Containers list of available images
 * ("Large Model Inference Containers") and the djl-serving LMI release notes:
 * `djl-inference:0.36.0-lmi18.0.0-cu128` is DJL Serving 0.36.0 with vLLM 0.12.0 (LMI v18),
 * for NVIDIA GPUs. Its vLLM async handler (see llm-container.ts) serves the OpenAI
 * chat-completions and completions schema on `/invocations` and streams through
 * InvokeEndpointWithResponseStream. Inferentia2/Trainium need a Neuron LMI image (`image`).
 */
export const SERVING_IMAGES = {
  triton: { repository: "sagemaker-tritonserver", tag: "24.09-py3" },
  lmi: { repository: "djl-inference", tag: "0.36.0-lmi18.0.0-cu128" },
  tgi: { repository: "huggingface-pytorch-tgi-inference", tag: "2.3.0-tgi2.0.2-gpu-py310-cu121-ubuntu22.04" },
} as const;

export type ServingImage = keyof typeof SERVING_IMAGES;

/** Deep Learning Containers registry account per region (sagemaker-python-sdk image_uri_config). */
export const DLC_ACCOUNTS: Readonly<Record<string, string>> = {
  "af-south-1": "626614931356",
  "ap-east-1": "871362719292",
  "ap-northeast-1": "763104351884",
  "ap-northeast-2": "763104351884",
  "ap-northeast-3": "364406365360",
  "ap-south-1": "763104351884",
  "ap-south-2": "772153158452",
  "ap-southeast-1": "763104351884",
  "ap-southeast-2": "763104351884",
  "ap-southeast-3": "907027046896",
  "ap-southeast-4": "457447274322",
  "ca-central-1": "763104351884",
  "ca-west-1": "204538143572",
  "cn-north-1": "727897471807",
  "cn-northwest-1": "727897471807",
  "eu-central-1": "763104351884",
  "eu-central-2": "380420809688",
  "eu-north-1": "763104351884",
  "eu-south-1": "692866216735",
  "eu-south-2": "503227376785",
  "eu-west-1": "763104351884",
  "eu-west-2": "763104351884",
  "eu-west-3": "763104351884",
  "il-central-1": "780543022126",
  "me-central-1": "914824155844",
  "me-south-1": "217643126080",
  "sa-east-1": "763104351884",
  "us-east-1": "763104351884",
  "us-east-2": "763104351884",
  "us-gov-east-1": "446045086412",
  "us-gov-west-1": "442386744353",
  "us-west-1": "763104351884",
  "us-west-2": "763104351884",
};

/** Regions the SDK lists no Triton image for; FindInMap fails the deploy there, loudly. */
const NO_TRITON = new Set(["ap-south-2", "ap-southeast-4", "eu-central-2", "eu-south-2", "me-central-1", "us-gov-east-1", "us-gov-west-1"]);

/** Which AWS container serves a runtime; `custom` has none (its `image` is required). */
export function servingImageFor(runtime: Runtime): ServingImage | undefined {
  switch (runtime) {
    case "onnx":
    case "tensorrt":
      return "triton";
    case "lmi":
      return "lmi";
    case "tgi":
      return "tgi";
    case "custom":
      return undefined;
  }
}

const MAPPING_ID = "ServingImageRegistries";

/** The one region → registry account mapping of a stack, created on first use. */
function registryMapping(stack: Stack): CfnMapping {
  const existing = stack.node.tryFindChild(MAPPING_ID);
  if (existing instanceof CfnMapping) return existing;
  const mapping: Record<string, Record<string, string>> = {};
  for (const [region, account] of Object.entries(DLC_ACCOUNTS)) {
    mapping[region] = { lmi: account, tgi: account, ...(NO_TRITON.has(region) ? {} : { triton: account }) };
  }
  return new CfnMapping(stack, MAPPING_ID, { mapping, lazy: true });
}

/** Image URI and ECR repository ARN of an AWS serving container in the stack's region. */
export function servingImage(stack: Stack, image: ServingImage): { readonly uri: string; readonly repositoryArn: string } {
  const { repository, tag } = SERVING_IMAGES[image];
  // stack.region (not Aws.REGION) so a lazy mapping resolves at synth when the region is known.
  const account = registryMapping(stack).findInMap(stack.region, image);
  // With a concrete region the whole URI becomes a literal (the lazy mapping resolves too).
  const known = Token.isUnresolved(stack.region) ? undefined : RegionInfo.get(stack.region);
  const suffix = known?.domainSuffix ?? stack.urlSuffix;
  const partition = known?.partition ?? stack.partition;
  return {
    uri: Fn.join("", [account, ".dkr.ecr.", stack.region, ".", suffix, `/${repository}:${tag}`]),
    repositoryArn: Fn.join("", ["arn:", partition, ":ecr:", stack.region, ":", account, `:repository/${repository}`]),
  };
}

/** ECR repository ARN of an image URI in ECR (`<acct>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`). */
export function ecrRepositoryArn(imageUri: string, partition: string): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(imageUri);
  if (!m) return undefined;
  return `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}
