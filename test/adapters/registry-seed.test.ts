import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "@jest/globals";
import { modelPk, versionSk } from "../../functions/aws/registry-items";
import { seedRegistry } from "../../functions/aws/registry-seed";
import { registryTable, tableName } from "../../functions/contract/tables";
import { ensureTables } from "../../infra/local/bootstrap/tables";
import { parsePlatformConfig } from "../../infra/shared/config";
import { registrySeed } from "../../infra/shared/function-env";
import { e2ePlatform } from "../e2e/helpers";

// Its own tables on the e2e platform's DynamoDB Local, so no other suite sees this model.
const platform = `seedmove${Date.now() % 100_000}`;
const client = new DynamoDBClient({
  endpoint: e2ePlatform().dynamodb,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const table = tableName(platform, registryTable);

const variantLayout = {
  name: platform,
  models: { iris: { versions: [{ version: 1, artifact: "a.onnx", instanceType: "ml.c5.xlarge" }], aliases: { prod: 1 } } },
};
const onPool = {
  name: platform,
  pools: { shared: { instanceType: "ml.g5.xlarge", instances: { min: 0, max: 1 } } },
  models: {
    iris: { versions: [{ version: 1, artifact: "a.onnx", placement: { pool: "shared", memoryMiB: 1024 } }], aliases: { prod: 1 } },
  },
};
const seedOf = (config: unknown) => registrySeed(parsePlatformConfig(config), () => "s3://bucket/models/iris/1/model.onnx");
const item = async () =>
  (await doc.send(new GetCommand({ TableName: table, Key: { pk: modelPk("iris"), sk: versionSk(1) } }))).Item as Record<string, unknown>;

describe("seedRegistry moves a deployed version between layouts (DynamoDB Local)", () => {
  it("a redeploy points an existing version at its pool component, and back, keeping status and createdAt", async () => {
    await ensureTables(client, platform);
    await seedRegistry(doc, table, seedOf(variantLayout), new Date("2026-01-01T00:00:00Z"));
    expect(await item()).toMatchObject({
      endpointName: `${platform}-iris`,
      variantName: "v1",
      instanceType: "ml.c5.xlarge",
      status: "ready",
    });
    // An operator retired it meanwhile: a deploy changes where it is served, not its status.
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: modelPk("iris"), sk: versionSk(1) },
        UpdateExpression: "SET #s = :retired",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":retired": "retired" },
      }),
    );

    await seedRegistry(doc, table, seedOf(onPool), new Date("2026-02-01T00:00:00Z"));
    expect(await item()).toMatchObject({
      endpointName: `${platform}-pool-shared`,
      variantName: "AllTraffic",
      inferenceComponentName: `${platform}-iris-v1`,
      instanceType: "ml.g5.xlarge",
      status: "retired",
      createdAt: "2026-01-01T00:00:00.000Z",
    });

    await seedRegistry(doc, table, seedOf(variantLayout));
    const back = await item();
    expect(back).toMatchObject({ endpointName: `${platform}-iris`, variantName: "v1", instanceType: "ml.c5.xlarge" });
    expect(back).not.toHaveProperty("inferenceComponentName");
  });
});
