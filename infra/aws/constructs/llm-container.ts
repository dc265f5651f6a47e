import { SecretValue } from "aws-cdk-lib";
import { huggingFaceModelId, type VersionConfig } from "../../shared/config-schema";

/** Where SageMaker mounts a version's S3 artifact inside the container. */
export const MODEL_DIR = "/opt/ml/model";

/**
 * How long SageMaker waits for an LLM container: the weights' download (from S3, or from the
 * Hugging Face hub by the container itself), then the engine's load and warm-up before /ping
 * answers. LMI is told the same load timeout so it gives up before SageMaker does.
 */
export const LLM_STARTUP_TIMEOUT_S = 900;
export const LLM_DOWNLOAD_TIMEOUT_S = 1800;

/**
 * The LMI container's environment for vLLM, as its docs configure it (djl-serving
 * serving/docs/lmi, "vLLM user guide", async mode, the default and recommended handler since
 * LMI v16/v17): `OPTION_ASYNC_MODE` with the `lmi_vllm.vllm_async_service` entry point runs
 * vLLM's own OpenAI serving layer behind `/invocations`, so the container takes the OpenAI
 * chat/completions bodies the gateway sends, honours `stream_options.include_usage`, and
 * streams one chunk per line through InvokeEndpointWithResponseStream.
 */
export function lmiEnvironment(model: string, v: VersionConfig): Record<string, string> {
  const llm = v.llm;
  // A component sees only the accelerators it reserves; "max" is said as that number.
  const degree = llm?.tensorParallelDegree ?? "max";
  return {
    HF_MODEL_ID: huggingFaceModelId(v.artifact) ?? MODEL_DIR,
    // The gateway sends the registry's model name as `model`; vLLM's OpenAI layer refuses a
    // name it does not serve (LMI's default is "lmi"), so it serves this one (a vLLM engine
    // argument, passed through by LMI as OPTION_<ARG>).
    OPTION_SERVED_MODEL_NAME: model,
    OPTION_ASYNC_MODE: "true",
    OPTION_ROLLING_BATCH: "disable",
    OPTION_ENTRYPOINT: "djl_python.lmi_vllm.vllm_async_service",
    TENSOR_PARALLEL_DEGREE: String(degree === "max" && v.placement ? v.placement.accelerators : degree),
    OPTION_MODEL_LOADING_TIMEOUT: String(LLM_STARTUP_TIMEOUT_S),
    // A model that fails to load exits the container, so the deploy fails instead of hanging.
    SERVING_FAIL_FAST: "true",
    ...(llm?.maxModelLen !== undefined ? { OPTION_MAX_MODEL_LEN: String(llm.maxModelLen) } : {}),
    ...(llm?.huggingFaceTokenSecretArn !== undefined ? { HF_TOKEN: huggingFaceToken(llm.huggingFaceTokenSecretArn) } : {}),
  };
}

/** TGI reads the model id the same way; its other settings keep the container's defaults. */
export function tgiEnvironment(v: VersionConfig): Record<string, string> {
  return { HF_MODEL_ID: huggingFaceModelId(v.artifact) ?? MODEL_DIR };
}

/**
 * SageMaker has no secret references in a container's environment (unlike ECS), so the token
 * has to be a plain variable there. It is written as a CloudFormation dynamic reference: the
 * template and the cloud assembly hold only `{{resolve:secretsmanager:…}}`, CloudFormation
 * resolves it with the deployer's credentials, and the execution role needs no access to the
 * secret. The trade-off: the resolved token is visible to whoever may call
 * sagemaker:DescribeModel, hence a read-only, model-scoped token is advised (README).
 */
function huggingFaceToken(secretArn: string): string {
  return SecretValue.secretsManager(secretArn).unsafeUnwrap();
}
