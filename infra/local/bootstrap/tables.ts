import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { TABLES, type TableDefinition, tableName } from "../../../functions/contract/tables";

/** The CreateTable input for a shared table definition (the same shape CDK builds). */
export function createTableInput(platformName: string, t: TableDefinition): CreateTableCommandInput {
  const attributes = new Map<string, "S" | "N">();
  for (const k of [t.partitionKey, t.sortKey, ...t.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey])])
    attributes.set(k.name, k.type);
  return {
    TableName: tableName(platformName, t),
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: [
      { AttributeName: t.partitionKey.name, KeyType: "HASH" },
      { AttributeName: t.sortKey.name, KeyType: "RANGE" },
    ],
    ...(t.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: t.stream } } : {}),
    ...(t.globalSecondaryIndexes.length
      ? {
          GlobalSecondaryIndexes: t.globalSecondaryIndexes.map((i) => ({
            IndexName: i.indexName,
            KeySchema: [
              { AttributeName: i.partitionKey.name, KeyType: "HASH" as const },
              { AttributeName: i.sortKey.name, KeyType: "RANGE" as const },
            ],
            Projection: { ProjectionType: "ALL" as const },
          })),
        }
      : {}),
  };
}

/** Creates any missing table; the data of existing ones is kept across restarts. */
export async function ensureTables(client: DynamoDBClient, platformName: string): Promise<void> {
  for (const t of TABLES) {
    const name = tableName(platformName, t);
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
      continue;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    await client.send(new CreateTableCommand(createTableInput(platformName, t)));
    if (t.timeToLiveAttribute) {
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: t.timeToLiveAttribute, Enabled: true } }),
      );
    }
  }
}
