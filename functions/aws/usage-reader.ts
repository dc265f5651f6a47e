import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { GSI1 } from "../../infra/shared/tables";
import { BadRequestError } from "../core/errors";
import type { Page, UsageReader } from "../core/ports";
import { AGGREGATE_SHARDS, COUNTER_FIELDS, emptyCounters, type Granularity, type UsageRecord, type UsageRow } from "../core/usage";
import { queryAll } from "./query-all";
import { aggregatePk, periodPrefix, recordGsi1pk, recordOf, recordPk } from "./usage-items";

/** Reads aggregate rows by querying every shard of the tenant, and records through gsi1 (never a scan). */
export class DynamoUsageReader implements UsageReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async aggregates(tenantId: string, granularity: Granularity, fromPeriod: string, toPeriod: string): Promise<UsageRow[]> {
    const prefix = periodPrefix(granularity);
    const shards = Array.from({ length: AGGREGATE_SHARDS }, (_, s) => s);
    const perShard = await Promise.all(
      shards.map(async (shard) => {
        const items = await queryAll(this.doc, {
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
          ExpressionAttributeValues: {
            ":pk": aggregatePk(tenantId, shard),
            ":from": `${prefix}#${fromPeriod}`,
            // '~' sorts after every character of a period, model name, version and key id.
            ":to": `${prefix}#${toPeriod}~`,
          },
        });
        return items.map(rowOf);
      }),
    );
    return perShard.flat();
  }

  async records(
    tenantId: string,
    day: string,
    q: { readonly fromTime: string; readonly toTime: string; readonly limit: number; readonly after?: string | undefined },
  ): Promise<Page<UsageRecord>> {
    const pk = recordGsi1pk(tenantId, day);
    // gsi1sk is `<time>#<requestId>`: time bounds are sort key bounds ('~' sorts after '#').
    const lo = q.fromTime;
    const hi = `${q.toTime}~`;
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: GSI1,
        KeyConditionExpression: "gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi",
        ExpressionAttributeValues: { ":pk": pk, ":lo": lo, ":hi": hi },
        Limit: q.limit,
        ...(q.after !== undefined ? { ExclusiveStartKey: startKey(pk, q.after, lo, hi) } : {}),
      }),
    );
    const last = out.LastEvaluatedKey?.gsi1sk;
    return { items: (out.Items ?? []).map(recordOf), ...(typeof last === "string" ? { cursor: last } : {}) };
  }
}

/**
 * The start key of a resumed query, rebuilt from the position (a gsi1sk) alone: the partition
 * always comes from the caller's tenant, so a crafted cursor can never reach another tenant's
 * records, and a position outside the query's bounds is a 400 rather than DynamoDB's 500.
 */
function startKey(gsi1pk: string, after: string, lo: string, hi: string): Record<string, string> {
  const hash = after.indexOf("#");
  if (hash < 1 || after < lo || after > hi) throw new BadRequestError("'cursor' is not valid for this range");
  return { gsi1pk, gsi1sk: after, pk: recordPk(after.slice(hash + 1)), sk: "REQ" };
}

function rowOf(i: Record<string, unknown>): UsageRow {
  const n = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0));
  const counters = emptyCounters();
  for (const f of COUNTER_FIELDS) counters[f] = n(i[f]);
  return {
    period: String(i.period),
    model: String(i.model),
    version: n(i.version),
    keyId: String(i.keyId),
    ...counters,
  };
}
