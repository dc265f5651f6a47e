import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type TableDefinition, tableName } from "../../functions/contract/tables";
import { e2ePlatform } from "../e2e/helpers";

/** A document client on the e2e platform's DynamoDB Local, and its table names. */
export function localDocumentClient(): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint: e2ePlatform().dynamodb,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export const e2eTable = (t: Pick<TableDefinition, "id">) => tableName("mge2e", t);
