import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import { ADMIN_POLICY_METHODS } from "../../infra/aws/constructs/api-protection";
import config from "../../modelgate.config";
import { artifactDir, synthPlatform } from "./fixtures";

// The shipped config, pinned to a region: what `npx cdk synth -c region=eu-west-1` produces.
// Its artifact paths point at stand-in files so the test needs no `npm run models`.
const dir = artifactDir({
  "models/iris/1/model.onnx": "v1",
  "models/iris/2/model.onnx": "v2",
  "models/tinylm/1/model.onnx": "lm",
  "models/tinyembed/1/model.onnx": "emb",
});
const { template, violations } = synthPlatform({ config, baseDir: dir, env: { region: "eu-west-1", account: "111122223333" } });

describe("modelgate.config.ts in eu-west-1, no web ACL of the operator's", () => {
  it("passes cdk-nag with zero unacknowledged findings", () => {
    expect(violations).toEqual([]);
  });

  it("attaches its own web ACL with a per-IP rate rule answering a JSON 429 (on by default)", () => {
    template.hasResourceProperties("AWS::WAFv2::WebACL", {
      Scope: "REGIONAL",
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Name: "rate-per-ip",
          Statement: { RateBasedStatement: { Limit: 20000, AggregateKeyType: "IP" } },
          Action: { Block: { CustomResponse: Match.objectLike({ ResponseCode: 429, CustomResponseBodyKey: "rate-limited" }) } },
        }),
      ],
    });
    const acl = Object.keys(template.findResources("AWS::WAFv2::WebACL"))[0];
    template.hasResourceProperties("AWS::WAFv2::WebACLAssociation", { WebACLArn: { "Fn::GetAtt": [acl, "Arn"] } });
  });

  it("denies /admin/* to principals outside the account by default", () => {
    template.hasResourceProperties("AWS::ApiGateway::RestApi", {
      Policy: {
        Statement: [
          Match.objectLike({
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "execute-api:Invoke",
            // Every method but OPTIONS (the console's CORS preflight), sorted as CDK minimizes the policy.
            Resource: ADMIN_POLICY_METHODS.flatMap((m) => [`execute-api:/*/${m}/admin`, `execute-api:/*/${m}/admin/*`]).sort(),
            Condition: { StringNotEquals: { "aws:PrincipalAccount": ["111122223333"] } },
          }),
        ],
      },
    });
  });

  it("resolves the Triton image of the region at synth", () => {
    template.hasResourceProperties("AWS::SageMaker::Model", {
      PrimaryContainer: { Image: "763104351884.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-tritonserver:24.09-py3" },
    });
  });

  it("puts both iris versions as components on the shared ml.g5.xlarge pool, v2 scaling to zero, no volume key on g5", () => {
    template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ProductionVariants: [
        Match.objectLike({
          VariantName: "AllTraffic",
          InstanceType: "ml.g5.xlarge",
          InitialInstanceCount: 1,
          ManagedInstanceScaling: { Status: "ENABLED", MinInstanceCount: 0, MaxInstanceCount: 2 },
        }),
      ],
      KmsKeyId: Match.absent(),
    });
    template.hasResourceProperties("AWS::SageMaker::Endpoint", { EndpointName: "modelgate-pool-shared" });
    template.hasResourceProperties("AWS::SageMaker::InferenceComponent", {
      InferenceComponentName: "modelgate-iris-v1",
      RuntimeConfig: { CopyCount: 1 },
    });
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      ResourceId: "inference-component/modelgate-iris-v2",
      MinCapacity: 0,
      MaxCapacity: 1,
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "NoCapacityInvocationFailures",
      Dimensions: [{ Name: "InferenceComponentName", Value: "modelgate-iris-v2" }],
    });
    expect(template.toJSON().Mappings).toBeUndefined();
  });

  it("leaves the local-only tinylm and tinyembed out: no endpoint, no registry entry (the cloud answers 404)", () => {
    template.resourceCountIs("AWS::SageMaker::Endpoint", 1);
    expect(JSON.stringify(template.findResources("Custom::RegistrySeed"))).not.toContain("tinylm");
    expect(JSON.stringify(template.findResources("Custom::RegistrySeed"))).not.toContain("tinyembed");
  });
});
