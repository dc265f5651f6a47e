import { beforeEach, describe, expect, it, jest } from "@jest/globals";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";

import { createSeedHandler, parseSeedProperties } from "../../functions/seed/create-seed-handler";

const seedRegistry = jest.fn(async (_tableName: string, _seed: unknown) => undefined);
const handler = createSeedHandler(seedRegistry);

const seed = {
  models: [{ model: "iris", defaultAlias: "prod" }],
  versions: [
    {
      model: "iris",
      version: 1,
      runtime: "onnx",
      endpointName: "modelgate-iris",
      variantName: "v1",
      artifactUri: "s3://b/models/iris/1/iris/1/model.onnx",
      instanceType: "ml.g5.xlarge",
      sha256: "a".repeat(64),
    },
  ],
  aliases: [{ model: "iris", alias: "prod", targets: [{ version: 1, weight: 100 }] }],
};
const event = (type: "Create" | "Update" | "Delete", props: Record<string, unknown>) =>
  ({
    RequestType: type,
    ServiceToken: "arn:aws:lambda:us-east-1:1:function:x",
    ResponseURL: "https://example.invalid",
    StackId: "s",
    RequestId: "r",
    LogicalResourceId: "Seed",
    ResourceType: "Custom::RegistrySeed",
    PhysicalResourceId: "registry-seed:modelgate-registry",
    ResourceProperties: { ServiceToken: "x", ...props },
    OldResourceProperties: {},
  }) as unknown as CloudFormationCustomResourceEvent;

describe("registry seed custom resource", () => {
  beforeEach(() => {
    seedRegistry.mockClear();
  });

  it.each(["Create", "Update"] as const)("%s writes the seed to the named table", async (type) => {
    const res = await handler(event(type, { TableName: "modelgate-registry", Seed: JSON.stringify(seed) }));
    expect(seedRegistry).toHaveBeenCalledWith("modelgate-registry", seed);
    expect(res).toEqual({ PhysicalResourceId: "registry-seed:modelgate-registry", Data: { Models: "1", Versions: "1", Aliases: "1" } });
  });

  it("Delete leaves the registry alone", async () => {
    const res = await handler(event("Delete", { TableName: "modelgate-registry", Seed: "{}" }));
    expect(seedRegistry).not.toHaveBeenCalled();
    expect(res.PhysicalResourceId).toBe("registry-seed:modelgate-registry");
  });

  it("refuses properties that are not a seed, naming the field", () => {
    expect(() => parseSeedProperties({ Seed: "{}" })).toThrow(/TableName/);
    expect(() => parseSeedProperties({ TableName: "t", Seed: "{not json" })).toThrow(/Seed: not valid JSON/);
    expect(() => parseSeedProperties({ TableName: "t", Seed: JSON.stringify({ models: [], versions: {} }) })).toThrow(/Seed.versions/);
  });
});
