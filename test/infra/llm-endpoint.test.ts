import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import { SERVING_IMAGES } from "../../infra/aws/constructs/container-images";
import { artifactDir, synthPlatform } from "./fixtures";

// LLM versions on the LMI (vLLM) container: weights from an s3:// prefix, and a gated hub model
// with vLLM settings and a token; beside them a local-only ONNX LLM that the cloud must skip.
const TOKEN_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:hf-token-AbCdEf";
const dir = artifactDir({ "tiny/model.onnx": "onnx causal lm" });
const config = {
  name: "mgllm",
  models: {
    chat: {
      versions: [
        { version: 1, runtime: "lmi", artifact: "s3://external-models/llama/1/", instanceType: "ml.g5.12xlarge" },
        {
          version: 2,
          runtime: "lmi",
          artifact: "hf://meta-llama/Llama-3.1-8B-Instruct",
          instanceType: "ml.g6.2xlarge",
          llm: { maxModelLen: 8192, tensorParallelDegree: 1, huggingFaceTokenSecretArn: TOKEN_SECRET },
        },
      ],
      aliases: { prod: 1, next: 2 },
    },
    tinylm: {
      versions: [{ version: 1, runtime: "lmi", artifact: "tiny/model.onnx", localOnly: true }],
      aliases: { prod: 1 },
    },
  },
};
const { template, violations } = synthPlatform({ config, baseDir: dir });
const lmiImage = {
  "Fn::Join": [
    "",
    Match.arrayWith([
      { "Fn::FindInMap": ["ServingImageRegistries", { Ref: "AWS::Region" }, "lmi"] },
      `/djl-inference:${SERVING_IMAGES.lmi.tag}`,
    ]),
  ],
};
const VLLM_ASYNC = {
  OPTION_SERVED_MODEL_NAME: "chat",
  OPTION_ASYNC_MODE: "true",
  OPTION_ROLLING_BATCH: "disable",
  OPTION_ENTRYPOINT: "djl_python.lmi_vllm.vllm_async_service",
  SERVING_FAIL_FAST: "true",
  OPTION_MODEL_LOADING_TIMEOUT: "900",
};

describe("LLM versions on the LMI container", () => {
  it("passes cdk-nag with zero unacknowledged findings", () => {
    expect(violations).toEqual([]);
  });

  it("pins a current LMI release (vLLM async handler era, v18+)", () => {
    expect(SERVING_IMAGES.lmi.repository).toBe("djl-inference");
    const lmiMajor = Number(/-lmi(\d+)\./.exec(SERVING_IMAGES.lmi.tag)?.[1]);
    expect(lmiMajor).toBeGreaterThanOrEqual(18);
  });

  it("serves an s3:// prefix mounted at /opt/ml/model, network-isolated, sharded over every GPU", () => {
    template.hasResourceProperties("AWS::SageMaker::Model", {
      EnableNetworkIsolation: true,
      PrimaryContainer: {
        Image: lmiImage,
        Environment: { ...VLLM_ASYNC, HF_MODEL_ID: "/opt/ml/model", TENSOR_PARALLEL_DEGREE: "max", OPTION_MAX_MODEL_LEN: Match.absent() },
        ModelDataSource: { S3DataSource: { S3Uri: "s3://external-models/llama/1/", S3DataType: "S3Prefix", CompressionType: "None" } },
      },
    });
  });

  it("serves a hub id with its vLLM settings and the token as a dynamic reference, downloading itself", () => {
    template.hasResourceProperties("AWS::SageMaker::Model", {
      EnableNetworkIsolation: false,
      PrimaryContainer: {
        Image: lmiImage,
        Environment: {
          ...VLLM_ASYNC,
          HF_MODEL_ID: "meta-llama/Llama-3.1-8B-Instruct",
          TENSOR_PARALLEL_DEGREE: "1",
          OPTION_MAX_MODEL_LEN: "8192",
          HF_TOKEN: `{{resolve:secretsmanager:${TOKEN_SECRET}:SecretString:::}}`,
        },
        ModelDataSource: Match.absent(),
        ModelDataUrl: Match.absent(),
      },
    });
  });

  it("gives the execution role no access to the token secret", () => {
    expect(JSON.stringify(template.findResources("AWS::IAM::Policy"))).not.toContain("secretsmanager");
  });

  it("puts both on GPU variants with the LLM startup and download timeouts", () => {
    template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ProductionVariants: [
        Match.objectLike({
          VariantName: "v1",
          InstanceType: "ml.g5.12xlarge",
          InitialVariantWeight: 100,
          ContainerStartupHealthCheckTimeoutInSeconds: 900,
          ModelDataDownloadTimeoutInSeconds: 1800,
        }),
        Match.objectLike({
          VariantName: "v2",
          InstanceType: "ml.g6.2xlarge",
          InitialVariantWeight: 0,
          ContainerStartupHealthCheckTimeoutInSeconds: 900,
          ModelDataDownloadTimeoutInSeconds: 1800,
        }),
      ],
    });
  });

  it("deploys nothing for a localOnly version and leaves it out of the registry seed", () => {
    template.resourceCountIs("AWS::SageMaker::Endpoint", 1);
    template.hasResourceProperties("AWS::SageMaker::Endpoint", { EndpointName: "mgllm-chat" });
    template.resourceCountIs("AWS::SageMaker::Model", 2);
    const seed = JSON.stringify(template.findResources("Custom::RegistrySeed"));
    expect(seed).toContain("hf://meta-llama/Llama-3.1-8B-Instruct");
    expect(seed).not.toContain("tinylm");
  });
});
