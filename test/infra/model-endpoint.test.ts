import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import { synthTwoModels } from "./two-models";

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { stack, template, keyId, bucketId, permissionsOf } = synthTwoModels({ bundling: false });

describe("ModelEndpoint (two models, three versions)", () => {
  it("serves a local ONNX file as a Triton repository loaded uncompressed from its version prefix", () => {
    template.hasResourceProperties("AWS::SageMaker::Model", {
      EnableNetworkIsolation: true,
      PrimaryContainer: {
        Mode: "SingleModel",
        Image: { "Fn::Join": ["", Match.arrayWith([{ "Fn::FindInMap": ["ServingImageRegistries", { Ref: "AWS::Region" }, "triton"] }])] },
        Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: "iris" },
        ModelDataSource: {
          S3DataSource: {
            S3DataType: "S3Prefix",
            CompressionType: "None",
            S3Uri: { "Fn::Join": ["", ["s3://", { Ref: bucketId }, "/models/iris/1/"]] },
          },
        },
      },
    });
  });

  it("serves a local model.tar.gz through ModelDataUrl, and an s3:// prefix as given, on the TGI image", () => {
    template.hasResourceProperties("AWS::SageMaker::Model", {
      PrimaryContainer: { ModelDataUrl: { "Fn::Join": ["", ["s3://", { Ref: bucketId }, "/models/iris/2/model.tar.gz"]] } },
    });
    template.hasResourceProperties("AWS::SageMaker::Model", {
      PrimaryContainer: {
        Image: { "Fn::Join": ["", Match.arrayWith([{ "Fn::FindInMap": ["ServingImageRegistries", { Ref: "AWS::Region" }, "tgi"] }])] },
        Environment: { HF_MODEL_ID: "/opt/ml/model" },
        ModelDataSource: { S3DataSource: { S3Uri: "s3://external-models/llm/1/", S3DataType: "S3Prefix", CompressionType: "None" } },
      },
    });
    expect(template.toJSON().Mappings.ServingImageRegistries["us-east-1"]).toEqual({
      lmi: "763104351884",
      tgi: "763104351884",
      triton: "763104351884",
    });
  });

  it("has one production variant per version with its instance type and default-alias weight", () => {
    template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ProductionVariants: [
        Match.objectLike({ VariantName: "v1", InstanceType: "ml.c5.xlarge", InitialInstanceCount: 1, InitialVariantWeight: 90 }),
        Match.objectLike({ VariantName: "v2", InstanceType: "ml.m5.xlarge", InitialInstanceCount: 1, InitialVariantWeight: 10 }),
      ],
      // No instance storage on c5/m5: the ML volume is encrypted with the store key.
      KmsKeyId: { "Fn::GetAtt": [keyId, "Arn"] },
      DataCaptureConfig: Match.objectLike({ EnableCapture: true, InitialSamplingPercentage: 20 }),
    });
    template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ProductionVariants: [
        Match.objectLike({
          VariantName: "v1",
          InstanceType: "ml.g5.12xlarge",
          InitialInstanceCount: 2,
          InitialVariantWeight: 100,
          ContainerStartupHealthCheckTimeoutInSeconds: 900,
        }),
      ],
      // g5 has NVMe instance storage, where SageMaker refuses a KmsKeyId.
      KmsKeyId: Match.absent(),
    });
    template.hasResourceProperties("AWS::SageMaker::Endpoint", { EndpointName: "mgtest-iris" });
    template.hasResourceProperties("AWS::SageMaker::Endpoint", { EndpointName: "mgtest-llm" });
  });

  it("scales each variant on invocations per instance between the configured min and max", () => {
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      ServiceNamespace: "sagemaker",
      ResourceId: "endpoint/mgtest-iris/variant/v1",
      ScalableDimension: "sagemaker:variant:DesiredInstanceCount",
      MinCapacity: 1,
      MaxCapacity: 3,
    });
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      ResourceId: "endpoint/mgtest-llm/variant/v1",
      MinCapacity: 2,
      MaxCapacity: 4,
    });
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      PolicyType: "TargetTrackingScaling",
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
        TargetValue: 500,
      },
    });
  });

  it("lets each execution role read only its own model's artifacts", () => {
    const iris = [...stack.endpoints.values()].find((e) => e.modelName === "iris");
    const llm = [...stack.endpoints.values()].find((e) => e.modelName === "llm");
    const irisPermissions = permissionsOf(stack.getLogicalId(iris?.role.node.defaultChild as never));
    expect(irisPermissions).toEqual(
      expect.arrayContaining([
        { action: "s3:GetObject", resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, "/models/iris/*"]] } },
        {
          action: "s3:ListBucket",
          condition: { StringLike: { "s3:prefix": ["models/iris/*"] } },
          resource: { "Fn::GetAtt": [bucketId, "Arn"] },
        },
        { action: "kms:Decrypt", resource: { "Fn::GetAtt": [keyId, "Arn"] } },
      ]),
    );
    expect(JSON.stringify(irisPermissions)).not.toContain("models/llm");
    const llmPermissions = permissionsOf(stack.getLogicalId(llm?.role.node.defaultChild as never));
    expect(llmPermissions).toEqual(
      expect.arrayContaining([
        { action: "s3:GetObject", resource: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":s3:::external-models/llm/1/*"]] } },
      ]),
    );
    expect(JSON.stringify(llmPermissions)).not.toContain("models/iris");
  });
});
