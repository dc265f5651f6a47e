import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { inject } from "vitest";
import { type TableDefinition, tableName } from "../../infra/shared/tables";

/** A document client on the e2e platform's DynamoDB Local, and its table names. */
export function localDocumentClient(): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint: inject("platform").dynamodb,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export const e2eTable = (t: Pick<TableDefinition, "id">) => tableName("mge2e", t);
