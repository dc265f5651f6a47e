import { createHash } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import { App, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { AwsSolutionsChecks } from "cdk-nag";
import { cloudConfig } from "../../infra/aws/cloud-config";
import { artifactLayout } from "../../infra/aws/constructs/artifacts";
import { ecrRepositoryArn, servingImageFor } from "../../infra/aws/constructs/container-images";
import { hasInstanceStorage, initialWeights } from "../../infra/aws/constructs/model-endpoint";
import { flattenCfnReference, wildcardFindings } from "../../infra/aws/nag-acknowledge";
import { createPlatformApp } from "../../infra/aws/platform-app";
import { ConfigError, parsePlatformConfig } from "../../infra/shared/config";
import { artifactDir, projectRoot } from "./fixtures";

const dir = artifactDir({ "m/1/model.onnx": "bytes" });
const version = (over: Record<string, unknown> = {}) => ({ version: 1, artifact: "m/1/model.onnx", ...over });
const configWith = (over: Record<string, unknown> = {}, aliases: Record<string, unknown> = { prod: 1 }) => ({
  name: "bad",
  models: { clf: { versions: [version(over)], aliases } },
});
const synth = (config: unknown) => createPlatformApp({ config, baseDir: dir, projectRoot, nag: false });

describe("a bad config fails synth with a message naming the field", () => {
  it.each([
    ["unknown runtime", configWith({ runtime: "pytorch" }), "models.clf.versions.0.runtime"],
    [
      "alias at an undeclared version",
      configWith(
        {},
        {
          prod: 1,
          canary: [
            { version: 1, weight: 50 },
            { version: 9, weight: 50 },
          ],
        },
      ),
      "models.clf.aliases.canary",
    ],
    ["instance type that is not ml.*", configWith({ instanceType: "g5.xlarge" }), "models.clf.versions.0.instanceType"],
    ["custom runtime without an image", configWith({ runtime: "custom" }), "models.clf.versions.0.image"],
    [
      "embedding model on a runtime that does not take OpenAI's embeddings body",
      { name: "bad", models: { emb: { embedding: { dimensions: 8 }, versions: [version({ runtime: "tgi" })], aliases: { prod: 1 } } } },
      "models.emb.versions.0.runtime",
    ],
    [
      "embedding model without dimensions",
      { name: "bad", models: { emb: { embedding: {}, versions: [version({ runtime: "lmi" })], aliases: { prod: 1 } } } },
      "models.emb.embedding.dimensions",
    ],
    ["missing local artifact", configWith({ artifact: "m/1/missing.onnx" }), "models.clf.versions.0.artifact"],
    ["sha256 that does not match the file", configWith({ sha256: "0".repeat(64) }), "models.clf.versions.0.sha256"],
    ["LLM runtime on a CPU instance", configWith({ runtime: "lmi", instanceType: "ml.m5.xlarge" }), "models.clf.versions.0.instanceType"],
    [
      "LLM runtime on Inferentia2 without a Neuron image",
      configWith({ runtime: "lmi", instanceType: "ml.inf2.xlarge" }),
      "models.clf.versions.0.image",
    ],
    ["hf:// artifact on a non-LLM runtime", configWith({ artifact: "hf://org/name" }), "models.clf.versions.0.artifact"],
    ["hf:// artifact that is not a hub id", configWith({ runtime: "lmi", artifact: "hf://org/na me" }), "models.clf.versions.0.artifact"],
    [
      "sha256 beside an hf:// artifact",
      configWith({ runtime: "lmi", artifact: "hf://org/name", sha256: "0".repeat(64) }),
      "models.clf.versions.0.sha256",
    ],
    ["llm settings on a runtime other than lmi", configWith({ runtime: "tgi", llm: { maxModelLen: 4096 } }), "models.clf.versions.0.llm"],
    [
      "a Hugging Face token for an S3 artifact",
      configWith({ runtime: "lmi", llm: { huggingFaceTokenSecretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:hf-AbCdEf" } }),
      "models.clf.versions.0.llm.huggingFaceTokenSecretArn",
    ],
    [
      "a token that is not a secret ARN",
      configWith({ runtime: "lmi", artifact: "hf://o/n", llm: { huggingFaceTokenSecretArn: "hf_abc" } }),
      "models.clf.versions.0.llm.huggingFaceTokenSecretArn",
    ],
    [
      "an alias mixing localOnly and deployed versions",
      {
        name: "bad",
        models: {
          clf: {
            versions: [version(), version({ version: 2, localOnly: true })],
            aliases: {
              prod: 1,
              mixed: [
                { version: 1, weight: 50 },
                { version: 2, weight: 50 },
              ],
            },
          },
        },
      },
      "models.clf.aliases.mixed",
    ],
    [
      "a default alias that only a localOnly version serves, beside deployed versions",
      {
        name: "bad",
        models: { clf: { versions: [version({ localOnly: true }), version({ version: 2 })], aliases: { prod: 1, next: 2 } } },
      },
      "models.clf.defaultAlias",
    ],
    ["nothing but localOnly versions", configWith({ localOnly: true }), "models: every version is localOnly"],
    [
      "authorizer cache TTL over 300 s",
      { ...configWith(), gateway: { authorizerCacheTtlSeconds: 3600 } },
      "gateway.authorizerCacheTtlSeconds",
    ],
  ])("%s", (_name, config, field) => {
    let thrown: unknown;
    try {
      synth(config);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain(field);
  });

  it("accepts an LLM on GPU, Neuron with its image, a hub id, and a CPU instance when localOnly", () => {
    for (const over of [
      { runtime: "lmi", instanceType: "ml.g6.2xlarge" },
      { runtime: "lmi", instanceType: "ml.p4d.24xlarge", artifact: "hf://meta-llama/Llama-3.1-8B-Instruct" },
      { runtime: "lmi", instanceType: "ml.inf2.xlarge", image: "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:neuronx" },
      { runtime: "lmi", instanceType: "ml.m5.xlarge", localOnly: true },
    ])
      expect(() => parsePlatformConfig(configWith(over))).not.toThrow();
  });

  it("accepts the file when its sha256 matches (the check is real)", () => {
    const sha256 = createHash("sha256").update("bytes").digest("hex");
    expect(() => parsePlatformConfig(configWith({ sha256 }))).not.toThrow();
  });
});

describe("construct helpers", () => {
  it("lays a single ONNX file out as a Triton repository and keeps tarballs compressed", () => {
    expect(artifactLayout("iris", "onnx", "/x/model.onnx")).toEqual({
      relativeKey: "iris/1/model.onnx",
      mode: "prefix",
      tritonModelName: "iris",
    });
    expect(artifactLayout("iris", "onnx", "/x/model.tar.gz")).toEqual({ relativeKey: "model.tar.gz", mode: "compressed" });
    expect(artifactLayout("llm", "tgi", "/x/weights.safetensors")).toEqual({ relativeKey: "weights.safetensors", mode: "prefix" });
  });

  it("maps runtimes to serving images and parses ECR image URIs", () => {
    expect(servingImageFor("tensorrt")).toBe("triton");
    expect(servingImageFor("lmi")).toBe("lmi");
    expect(servingImageFor("custom")).toBeUndefined();
    expect(ecrRepositoryArn("111122223333.dkr.ecr.eu-west-1.amazonaws.com/my/model:1.2", "aws")).toBe(
      "arn:aws:ecr:eu-west-1:111122223333:repository/my/model",
    );
    expect(ecrRepositoryArn("ghcr.io/x/y:1", "aws")).toBeUndefined();
  });

  it("knows which instance types carry local NVMe storage", () => {
    for (const t of ["ml.g5.xlarge", "ml.g6.2xlarge", "ml.p4d.24xlarge", "ml.m5d.large", "ml.g4dn.xlarge"])
      expect({ t, storage: hasInstanceStorage(t) }).toEqual({ t, storage: true });
    for (const t of ["ml.c5.xlarge", "ml.m5.xlarge", "ml.inf2.xlarge"])
      expect({ t, storage: hasInstanceStorage(t) }).toEqual({ t, storage: false });
  });

  it("gives the cloud the config without localOnly versions, their aliases and emptied models", () => {
    const cloud = cloudConfig(
      parsePlatformConfig({
        models: {
          a: { versions: [version(), version({ version: 2, localOnly: true })], aliases: { prod: 1, dev: 2 } },
          local: { versions: [version({ localOnly: true })], aliases: { prod: 1 } },
        },
      }),
    );
    expect(Object.keys(cloud.models)).toEqual(["a"]);
    expect(cloud.models.a?.versions.map((v) => v.version)).toEqual([1]);
    expect(cloud.models.a?.aliases).toEqual({ prod: 1 });
  });

  it("weights variants by the default alias", () => {
    const m = parsePlatformConfig({
      models: {
        a: {
          versions: [version(), version({ version: 2 }), version({ version: 3 })],
          aliases: {
            prod: [
              { version: 2, weight: 75 },
              { version: 3, weight: 25 },
            ],
            old: 1,
          },
        },
      },
    }).models.a;
    expect(m && [...initialWeights(m)]).toEqual([
      [1, 0],
      [2, 75],
      [3, 25],
    ]);
  });

  it("weighs variants 1 each when the default alias targets only versions placed on a pool", () => {
    const m = parsePlatformConfig({
      pools: { shared: { instanceType: "ml.g5.xlarge", instances: { min: 1, max: 1 } } },
      models: {
        a: {
          versions: [
            { version: 1, artifact: "a.onnx", instanceType: "ml.c5.xlarge" },
            { version: 2, artifact: "b.onnx", placement: { pool: "shared", memoryMiB: 1024 } },
          ],
          aliases: { prod: 2, old: 1 },
        },
      },
    }).models.a;
    expect(m && [...initialWeights(m)]).toEqual([[1, 1]]);
  });

  it("renders wildcard findings the way cdk-nag names them", () => {
    expect(flattenCfnReference({ "Fn::Join": ["", [{ "Fn::GetAtt": ["Bucket", "Arn"] }, "/models/*"]] })).toBe("<Bucket.Arn>/models/*");
    expect(
      wildcardFindings({
        Statement: [
          { Effect: "Allow", Action: ["s3:Get*", "s3:PutObject"], Resource: "*" },
          { Effect: "Deny", Action: "s3:*", Resource: "*" },
        ],
      }),
    ).toEqual(["Action::s3:Get*", "Resource::*"]);
  });

  it("cdk-nag fails synth on an unacknowledged finding (the clean runs can fail)", () => {
    const app = new App({ builtinCloudFormationValidation: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, "Nag");
    new iam.Role(stack, "R", { assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com") }).addToPolicy(
      new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: ["*"] }),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});
