import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { PoolSeed } from "../contract/seed";
import type { PoolCatalog } from "../core/billing/showback-report";
import { POOLS_KEY } from "./registry-items";

/** The pools the seed wrote into the registry (one item, replaced at every deploy or local start). */
export class DynamoPoolCatalog implements PoolCatalog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async pools(): Promise<readonly PoolSeed[]> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: POOLS_KEY }));
    const json = out.Item?.poolsJson;
    if (typeof json !== "string") return [];
    const pools = JSON.parse(json) as unknown;
    return Array.isArray(pools) ? (pools as PoolSeed[]) : [];
  }
}
