import { PACK_TYPE } from "./usage-keys";

/**
 * DynamoDB table definitions, read by both hosts: CDK builds the tables from them, the local
 * host creates the same tables in DynamoDB Local. Three tables so each function's IAM policy
 * can name only what it needs.
 */

export interface KeyAttribute {
  readonly name: string;
  readonly type: "S" | "N";
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
}

export interface TableDefinition {
  /** Logical id, also the suffix of the physical name (`<platform>-<id>`). */
  readonly id: "identity" | "registry" | "usage";
  readonly description: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry, when items expire. */
  readonly timeToLiveAttribute?: string;
  /** The table's change stream, when something consumes it. */
  readonly stream?: "NEW_IMAGE" | "NEW_AND_OLD_IMAGES" | "KEYS_ONLY" | "OLD_IMAGE";
}

const pk: KeyAttribute = { name: "pk", type: "S" };
const sk: KeyAttribute = { name: "sk", type: "S" };

/** GSI shared by tables that need a second access path: `gsi1pk` / `gsi1sk`. */
export const GSI1 = "gsi1";

export const identityTable: TableDefinition = {
  id: "identity",
  description: "Tenants and their API keys (keys stored as SHA-256 of the secret).",
  partitionKey: pk,
  sortKey: sk,
  // Lists a tenant's keys: gsi1pk = TENANT#<id>#, gsi1sk = KEY#<createdAt>#<keyId>.
  globalSecondaryIndexes: [{ indexName: GSI1, partitionKey: { name: "gsi1pk", type: "S" }, sortKey: { name: "gsi1sk", type: "S" } }],
};

export const registryTable: TableDefinition = {
  id: "registry",
  description: "Models, immutable versions, and aliases with revision and history.",
  partitionKey: pk,
  sortKey: sk,
  globalSecondaryIndexes: [],
};

export const usageTable: TableDefinition = {
  id: "usage",
  description: "Per-request usage records (expire by TTL) and sharded aggregates (kept).",
  partitionKey: pk,
  sortKey: sk,
  globalSecondaryIndexes: [],
  timeToLiveAttribute: "expiresAt",
  // The aggregator applies packs of records to the aggregates from this stream.
  stream: "NEW_IMAGE",
};

/**
 * How the aggregator is fed from the usage table's stream, read by CDK (the event source
 * mapping) and by the local host's poller: the same filter, batch and window.
 */
export const AGGREGATOR_STREAM = {
  /** Only INSERTs of packs: TTL removals are no usage, and the aggregator's own writes are no packs. */
  filter: { eventName: ["INSERT"], dynamodb: { NewImage: { type: { S: [PACK_TYPE] } } } },
  batchSize: 1000,
  maxBatchingWindowSeconds: 1,
  /** Makes Lambda name the stream shard in the event (the aggregator's checkpoint key); its state is unused. */
  tumblingWindowSeconds: 60,
  retryAttempts: 10,
  bisectBatchOnError: true,
} as const;

export const TABLES = [identityTable, registryTable, usageTable] as const;

/** Physical table name: `<platform>-<id>`. */
export function tableName(platformName: string, table: Pick<TableDefinition, "id">): string {
  return `${platformName}-${table.id}`;
}
