import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { BATCH_ACTIVE_PK, BATCH_FILE_PK_PREFIX, BATCH_LINE_PK_PREFIX, BATCH_PK_PREFIX } from "../../../functions/contract/batch-keys";
import { type KeyAttribute, TABLES, type TableDefinition, tableName } from "../../../functions/contract/tables";
import {
  AGGREGATE_PK_PREFIX,
  CHECKPOINT_PK,
  FRESHNESS_PK_PREFIX,
  LIMIT_PK_PREFIX,
  RECORD_PK_PREFIX,
} from "../../../functions/contract/usage-keys";

export type ControlTableId = TableDefinition["id"];

export interface ControlTablesProps {
  /** Platform name; tables are named `<platformName>-<id>` as the handlers expect. */
  readonly platformName: string;
  /**
   * Tables hold tenants, keys and usage: kept when the stack is deleted unless told otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Refuse table deletion at the API level too. @default true */
  readonly deletionProtection?: boolean;
}

function attribute(a: KeyAttribute): dynamodb.Attribute {
  return { name: a.name, type: a.type === "S" ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}

/**
 * The identity, registry and usage tables, built from the shared table definitions (the same
 * objects the local host creates in DynamoDB Local): on-demand, point-in-time recovery,
 * encrypted, TTL and a stream where a definition names them.
 */
export class ControlTables extends Construct {
  readonly identity: dynamodb.TableV2;
  readonly registry: dynamodb.TableV2;
  readonly usage: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ControlTablesProps) {
    super(scope, id);
    const tables = {} as Record<ControlTableId, dynamodb.TableV2>;
    for (const def of TABLES) {
      tables[def.id] = new dynamodb.TableV2(this, def.id[0]?.toUpperCase() + def.id.slice(1), {
        tableName: tableName(props.platformName, def),
        partitionKey: attribute(def.partitionKey),
        sortKey: attribute(def.sortKey),
        globalSecondaryIndexes: def.globalSecondaryIndexes.map((g) => ({
          indexName: g.indexName,
          partitionKey: attribute(g.partitionKey),
          sortKey: attribute(g.sortKey),
        })),
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        deletionProtection: props.deletionProtection ?? true,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        ...(def.timeToLiveAttribute ? { timeToLiveAttribute: def.timeToLiveAttribute } : {}),
        ...(def.stream ? { dynamoStream: dynamodb.StreamViewType[def.stream] } : {}),
      });
    }
    this.identity = tables.identity;
    this.registry = tables.registry;
    this.usage = tables.usage;
  }

  /** The ARN of each of the table's indexes, by name (no `index/*` wildcard). */
  indexArns(id: ControlTableId): string[] {
    const def = TABLES.find((t) => t.id === id);
    return (def?.globalSecondaryIndexes ?? []).map((g) => `${this[id].tableArn}/index/${g.indexName}`);
  }

  // Each grant below is what one adapter of functions/aws sends, and nothing else: the
  // commands are named beside each. A transaction (TransactWriteItems) is authorized item by
  // item, as the PutItem, UpdateItem or ConditionCheckItem it holds.

  /**
   * The REQUEST authorizer's reads and its one write (DynamoIdentityStore): a key and its tenant
   * by GetItem (getKey, getTenant), a key's last use by a conditional UpdateItem (touchKey).
   */
  grantKeyLookup(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(grantee, [this.identity.tableArn], ["GetItem", "UpdateItem"]);
  }

  /**
   * Tenants and keys for the admin API (DynamoIdentityStore): GetItem (getKey, getTenant),
   * PutItem (createTenant), UpdateItem (updateTenant, setKeyLimits, revokeKey), a transaction of
   * updates and a put (putKey, rotation), and Query of the identity table's index only
   * (listTenants, listKeys). Nothing is deleted: tenants leave tombstones, keys are revoked.
   */
  grantIdentityAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(grantee, [this.identity.tableArn], ["GetItem", "PutItem", "UpdateItem"]).combine(
      this.grantOn(grantee, this.indexArns("identity"), ["Query"]),
    );
  }

  /** The model routes' registry reads (DynamoRegistry behind CachedRegistry): Query of a model's partition (getModel) and of the catalog (listModels). */
  grantRegistryRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(grantee, [this.registry.tableArn], ["Query"]);
  }

  /**
   * The admin API's registry (DynamoRegistry): Query (getModel, listModels, aliasHistory),
   * GetItem (getAlias, aliasHistoryEntry), transactions of conditional puts (setAlias) and of a
   * ConditionCheckItem and a put (registerVersion), UpdateItem (setVersionStatus).
   */
  grantRegistryAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(grantee, [this.registry.tableArn], ["GetItem", "Query", "PutItem", "UpdateItem", "ConditionCheckItem"]);
  }

  /** The registry seed (seedRegistry): PutItem of models, versions and aliases (conditional where absent), UpdateItem of where a version is served and its status. */
  grantRegistrySeed(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(grantee, [this.registry.tableArn], ["PutItem", "UpdateItem"]);
  }

  /** Usage records (DynamoUsageSink): one conditional PutItem per pack, only in the record partitions (`REC#…`, usage-items.ts). */
  grantUsageRecordWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(grantee, [this.usage.tableArn], ["PutItem"], [`${RECORD_PK_PREFIX}*`]);
  }

  /**
   * Usage records read back (DynamoUsageReader.records), as reclaiming a dead holder's quota
   * lease does: Query of the record partitions (`REC#…`).
   */
  grantUsageRecordRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(grantee, [this.usage.tableArn], ["Query"], [`${RECORD_PK_PREFIX}*`]);
  }

  /**
   * Usage reports (DynamoUsageReader): Query of the records (`REC#…`), of the aggregates
   * (`AGG#…`) and of the applied counts (`FRESH#…`) that say how fresh they are.
   */
  grantUsageRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(
      grantee,
      [this.usage.tableArn],
      ["Query"],
      [`${RECORD_PK_PREFIX}*`, `${AGGREGATE_PK_PREFIX}*`, `${FRESHNESS_PK_PREFIX}*`],
    );
  }

  /**
   * The limit cells (DynamoLimitCells, items in limit-items.ts): a conditional UpdateItem per
   * step, and a consistent GetItem where a refused write returned no item or a status is read;
   * only in their partitions (`LIMIT#…`).
   */
  grantLimitCells(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(grantee, [this.usage.tableArn], ["GetItem", "UpdateItem"], [`${LIMIT_PK_PREFIX}*`]);
  }

  /**
   * The aggregator (DynamoAggregateStore): GetItem of a shard's checkpoint, and transactions of
   * updates of the checkpoint, the aggregates and the applied counts; only those partitions
   * (`AGGCP`, `AGG#…`, `FRESH#…`). Reading the stream is the event source mapping's grant.
   */
  grantUsageAggregation(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(
      grantee,
      [this.usage.tableArn],
      ["GetItem", "UpdateItem"],
      [`${AGGREGATE_PK_PREFIX}*`, `${FRESHNESS_PK_PREFIX}*`, CHECKPOINT_PK],
    );
  }

  /**
   * The Batch API (DynamoBatchStore, functions/contract/batch-keys.ts): files (Put, Get,
   * Delete), batches (TransactWrite of Puts at creation, Get, Query for the list, Update for a
   * cancel) and their active marks (Put; Delete when a batch ends); only those partitions.
   */
  grantBatchApi(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(
      grantee,
      [this.usage.tableArn],
      ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"],
      [`${BATCH_FILE_PK_PREFIX}*`, `${BATCH_PK_PREFIX}*`, BATCH_ACTIVE_PK],
    );
  }

  /**
   * The batch worker (DynamoBatchStore): the API's batch items, and each batch's lines and
   * chunks (`BLINE#…`: Put at start, Update with the result, Query at finalization, and the
   * chunk's Put in a transaction with the batch's counts).
   */
  grantBatchWork(grantee: iam.IGrantable): iam.Grant {
    return this.grantOn(
      grantee,
      [this.usage.tableArn],
      ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"],
      [`${BATCH_FILE_PK_PREFIX}*`, `${BATCH_PK_PREFIX}*`, `${BATCH_LINE_PK_PREFIX}*`, BATCH_ACTIVE_PK],
    );
  }

  /** `dynamodb:<action>` on exactly these ARNs, limited to items whose partition key matches `leadingKeys` when given. */
  private grantOn(grantee: iam.IGrantable, resourceArns: string[], actions: string[], leadingKeys?: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: actions.map((a) => `dynamodb:${a}`),
      resourceArns,
      ...(leadingKeys ? { conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [...leadingKeys] } } } : {}),
    });
  }
}
