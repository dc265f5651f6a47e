import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import config from "../../modelgate.config";
import { artifactDir, synthPlatform } from "./fixtures";

// The shipped config, pinned to a region: what `npx cdk synth -c region=eu-west-1` produces.
// Its artifact paths point at stand-in files so the test needs no `npm run models`.
const dir = artifactDir({ "models/iris/1/model.onnx": "v1", "models/iris/2/model.onnx": "v2", "models/tinylm/1/model.onnx": "lm" });
const { template, violations } = synthPlatform({ config, baseDir: dir, env: { region: "eu-west-1", account: "111122223333" } });

describe("modelgate.config.ts in eu-west-1, no WAF", () => {
  it("passes cdk-nag with zero unacknowledged findings", () => {
    expect(violations).toEqual([]);
    template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 0);
  });

  it("resolves the Triton image of the region at synth", () => {
    template.hasResourceProperties("AWS::SageMaker::Model", {
      PrimaryContainer: { Image: "763104351884.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-tritonserver:24.09-py3" },
    });
  });

  it("puts both versions on one endpoint, prod at full weight, and no volume key on g5", () => {
    template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ProductionVariants: [
        Match.objectLike({ VariantName: "v1", InstanceType: "ml.g5.xlarge", InitialInstanceCount: 1, InitialVariantWeight: 100 }),
        Match.objectLike({ VariantName: "v2", InstanceType: "ml.g5.xlarge", InitialInstanceCount: 1, InitialVariantWeight: 0 }),
      ],
      KmsKeyId: Match.absent(),
    });
    template.hasResourceProperties("AWS::SageMaker::Endpoint", { EndpointName: "modelgate-iris" });
    expect(template.toJSON().Mappings).toBeUndefined();
  });

  it("leaves the local-only tinylm out: no endpoint, no registry entry (the cloud answers 404)", () => {
    template.resourceCountIs("AWS::SageMaker::Endpoint", 1);
    expect(JSON.stringify(template.findResources("Custom::RegistrySeed"))).not.toContain("tinylm");
  });
});
