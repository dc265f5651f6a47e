import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { type KeyAttribute, TABLES, type TableDefinition, tableName } from "../../../functions/contract/tables";

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

  /** The table's ARN and, when asked, each of its indexes by name (no `index/*` wildcard). */
  arns(id: ControlTableId, withIndexes = true): string[] {
    return [this[id].tableArn, ...(withIndexes ? this.indexArns(id) : [])];
  }

  /** The ARN of each of the table's indexes, by name. */
  indexArns(id: ControlTableId): string[] {
    const def = TABLES.find((t) => t.id === id);
    return (def?.globalSecondaryIndexes ?? []).map((g) => `${this[id].tableArn}/index/${g.indexName}`);
  }
}
