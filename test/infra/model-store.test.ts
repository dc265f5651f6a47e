import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import { ONNX, sha, synthTwoModels, TARBALL } from "./two-models";

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { stack, template, keyId, bucketId } = synthTwoModels({ bundling: false });

describe("ModelStore (two models, three versions)", () => {
  it("keeps artifacts in a versioned, KMS-encrypted, private bucket with access logs and a lifecycle", () => {
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    template.hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: { "Fn::GetAtt": [keyId, "Arn"] } },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.anyValue() }, LogFilePrefix: "artifacts/" },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: "Enabled" })]),
      },
    });
  });

  it("denies every non-TLS request to the artifact bucket", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("uploads local artifacts under models/<model>/<version>/ with their sha256", () => {
    template.hasResourceProperties("Custom::CDKBucketDeployment", {
      DestinationBucketKeyPrefix: "models/iris/1/",
      Prune: false,
      UserMetadata: { sha256: sha(ONNX) },
    });
    template.hasResourceProperties("Custom::CDKBucketDeployment", {
      DestinationBucketKeyPrefix: "models/iris/2/",
      UserMetadata: { sha256: sha(TARBALL) },
    });
    const iris = [...stack.endpoints.values()].find((e) => e.modelName === "iris");
    expect(iris).toBeDefined();
  });

  it("expires captured model data with a lifecycle rule on data-capture/", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: "expire-data-capture",
            Prefix: "data-capture/",
            ExpirationInDays: 30,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            Status: "Enabled",
          }),
        ]),
      },
    });
  });
});
