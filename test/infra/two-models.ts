import { createHash } from "node:crypto";
import { expect } from "@jest/globals";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { artifactDir, logicalIdOf, type Permission, permissionsOfRole, type Synthesized, synthPlatform } from "./fixtures";

/**
 * The platform the construct suites (platform-stack, model-store, control-tables, model-endpoint,
 * registry-seed, platform-functions, gateway-api, observability) synthesize: two models, three
 * versions, from a local ONNX file, a local model.tar.gz and an s3:// prefix; the operator's web
 * ACL and data capture on.
 */
export const ONNX = "fake onnx bytes v1";
export const TARBALL = "fake model.tar.gz bytes v2";
export const sha = (s: string) => createHash("sha256").update(s).digest("hex");
export const WEB_ACL = "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/modelgate/abc";
export const TWO_MODELS = {
  name: "mgtest",
  models: {
    iris: {
      versions: [
        {
          version: 1,
          artifact: "iris/1/model.onnx",
          runtime: "onnx",
          instanceType: "ml.c5.xlarge",
          instances: { initial: 1, min: 1, max: 3 },
          targetInvocationsPerInstance: 500,
        },
        { version: 2, artifact: "iris/2/model.tar.gz", runtime: "onnx", instanceType: "ml.m5.xlarge", sha256: sha(TARBALL) },
      ],
      aliases: {
        prod: [
          { version: 1, weight: 90 },
          { version: 2, weight: 10 },
        ],
        staging: 2,
      },
    },
    llm: {
      versions: [
        {
          version: 1,
          artifact: "s3://external-models/llm/1/",
          runtime: "tgi",
          instanceType: "ml.g5.12xlarge",
          instances: { initial: 2, min: 2, max: 4 },
        },
      ],
      aliases: { prod: 1 },
    },
  },
  gateway: { authorizerCacheTtlSeconds: 30, rateLimitPerSecond: 250, burstLimit: 500, maxBodyBytes: 1024 * 1024 },
};

export interface TwoModels extends Synthesized {
  /** Logical id of the store's KMS key. */
  readonly keyId: string;
  /** Logical id of the artifact bucket (the versioned one). */
  readonly bucketId: string;
  /** Logical id of the control table named `name`. */
  tableId(name: string): string;
  /** The statements of the one policy attached to the role whose logical id contains `roleLogicalIdPrefix`. */
  policyOf(roleLogicalIdPrefix: string): Array<Record<string, unknown>>;
  /** Logical id of a function's role. */
  roleIdOf(fn: lambda.IFunction): string;
  /** What the role with this logical id may do, from every policy attached to it (permissionsOfRole). */
  permissionsOf(roleLogicalId: string): Permission[];
}

/**
 * One synthesis of TWO_MODELS (cdk-nag on) shared by every assertion of a suite. Suites that
 * read only the template pass `bundling: false` (see synthPlatform).
 */
export function synthTwoModels(options: { bundling?: boolean } = {}): TwoModels {
  const dir = artifactDir({ "iris/1/model.onnx": ONNX, "iris/2/model.tar.gz": TARBALL });
  const synthesized = synthPlatform({
    config: TWO_MODELS,
    baseDir: dir,
    webAclArn: WEB_ACL,
    dataCapture: { samplingPercentage: 20 },
    ...(options.bundling === undefined ? {} : { bundling: options.bundling }),
  });
  const { stack, template } = synthesized;
  const policyOf = (roleLogicalIdPrefix: string) => {
    const policies = template.findResources("AWS::IAM::Policy");
    const found = Object.entries(policies).filter(([, p]) =>
      JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleLogicalIdPrefix),
    );
    expect(found).toHaveLength(1);
    const policy = found[0]?.[1] as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } } | undefined;
    return policy?.Properties.PolicyDocument.Statement ?? [];
  };
  return {
    ...synthesized,
    keyId: logicalIdOf(template, "AWS::KMS::Key"),
    bucketId: logicalIdOf(template, "AWS::S3::Bucket", { VersioningConfiguration: { Status: "Enabled" } }),
    tableId: (name: string) => logicalIdOf(template, "AWS::DynamoDB::GlobalTable", { TableName: name }),
    policyOf,
    roleIdOf: (fn: lambda.IFunction) => stack.getLogicalId(fn.role?.node.defaultChild as never),
    permissionsOf: (roleLogicalId: string) => permissionsOfRole(template, roleLogicalId).permissions,
  };
}
