import { type DynamoDBDocumentClient, paginateQuery, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { aggregatePk, freshnessPk, freshnessSk, minuteOf, PACK_TYPE, periodPrefix, RECORD_SHARDS, recordPk } from "../contract/usage-keys";
import type { Page, UsageReader } from "../core/ports";
import { AGGREGATE_SHARDS, COUNTER_FIELDS, emptyCounters, type Granularity, type UsageRecord, type UsageRow } from "../core/usage";
import { recordPosition, recordPositionRange } from "../core/usage-query";
import { queryAll } from "./query-all";
import { PACK_SPAN_MS, packPosition, recordsOf } from "./usage-items";

/** Reads aggregate rows by querying every shard of the tenant, and records by querying every partition of the day (never a scan). */
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
    // A record's position is `<time>#<requestId>`: time bounds are position bounds ('~' sorts after '#').
    // The partitions always come from the caller's tenant, so a crafted cursor never reaches
    // another tenant's records, and a position outside the bounds is a 400, not DynamoDB's 500.
    const { lo, hi, contains: inRange } = recordPositionRange(q);
    const fromMs = Date.parse(timeOf(q.after ?? lo));
    // Items sort by their earliest record's position; a pack's records lie within PACK_SPAN_MS
    // of it, so every record at or after the start is in an item sorted no earlier than this.
    const scanFrom = Number.isFinite(fromMs) ? new Date(fromMs - PACK_SPAN_MS).toISOString() : lo;
    const read = await Promise.all(
      recordPartitions(tenantId, day).map((pk) =>
        this.firstRecords(
          {
            KeyConditionExpression: "pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues: { ":pk": pk, ":lo": scanFrom, ":hi": hi },
          },
          q.limit,
          inRange,
        ),
      ),
    );
    // Each partition's unread records sort after its own limit-th record found, which is no
    // earlier than the merged limit-th: the merged first `limit` are the range's first `limit`.
    const found = read.flatMap((r) => r.found).sort(byPosition);
    const items = found.slice(0, q.limit);
    const cursor = items.at(-1)?.position;
    const more = read.some((r) => !r.complete) || found.length > q.limit;
    return { items: items.map((f) => f.record), ...(more && cursor !== undefined ? { cursor } : {}) };
  }

  /**
   * The records of one partition that `inRange` accepts, read until
   * the first `limit` of them are known: `complete` when the partition was read to its end.
   */
  private async firstRecords(
    input: Omit<QueryCommandInput, "TableName">,
    limit: number,
    inRange: (position: string) => boolean,
  ): Promise<{ found: Found[]; complete: boolean }> {
    const found: Found[] = [];
    const pages = paginateQuery({ client: this.doc, pageSize: Math.max(25, limit) }, { TableName: this.table, ...input });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        for (const record of recordsOf(item)) {
          const position = recordPosition(record.time, record.requestId);
          if (inRange(position)) found.push({ position, record });
        }
      }
      const last = page.LastEvaluatedKey?.sk;
      if (typeof last !== "string") break;
      found.sort(byPosition);
      const kth = found[limit - 1];
      // Unread items sort after `last`, so their records are no earlier than its time: once
      // the limit-th record found is earlier than that, no unread record can precede it.
      if (kth && timeOf(kth.position) < timeOf(last)) return { found, complete: false };
    }
    return { found, complete: true };
  }

  /**
   * How fresh the aggregates are: every record written before the time returned is counted in
   * them. Packs are aggregated from the stream; the aggregator counts, in the same transaction
   * as the deltas, the records it applied per tenant and minute of each pack's first record
   * (FRESH#). Here those counts are read first, then the tenant's recent packs: a minute with
   * more records written than applied is pending, and asOf is the start of the earliest such
   * minute (a record written before it sits in a pack of an earlier minute, all applied).
   * With none pending, asOf is the time this read began (the partitions are read consistently):
   * every pack written before then was in the table when the counts were read. This reaches the present
   * when traffic stops, since it compares what was written with what was applied instead of
   * waiting for the stream to deliver something newer. Counts are read before packs, so a pack
   * applied in between can only look pending, never hide another pending pack of its minute.
   * Packs whose first record is older than FRESHNESS_WINDOW_MS are taken as applied: the
   * aggregator's iterator-age alarm fires long before the stream is that far behind.
   */
  async freshness(tenantId: string, now: number): Promise<string> {
    const windowStart = minuteOf(new Date(now - FRESHNESS_WINDOW_MS).toISOString());
    const applied = new Map<string, number>();
    const counted = await queryAll(this.doc, {
      TableName: this.table,
      ConsistentRead: true,
      KeyConditionExpression: "pk = :pk AND sk >= :from",
      ExpressionAttributeValues: { ":pk": freshnessPk(tenantId), ":from": freshnessSk(windowStart) },
    });
    for (const i of counted) applied.set(String(i.sk).slice("MIN#".length), Number(i.applied ?? 0));
    const days = [...new Set([windowStart.slice(0, 10), new Date(now).toISOString().slice(0, 10)])];
    const recent = await Promise.all(
      days.flatMap((day) =>
        recordPartitions(tenantId, day).map((pk) =>
          queryAll(this.doc, {
            TableName: this.table,
            ConsistentRead: true,
            KeyConditionExpression: "pk = :pk AND sk >= :from",
            ExpressionAttributeValues: { ":pk": pk, ":from": windowStart },
            ProjectionExpression: "sk, #type, n",
            ExpressionAttributeNames: { "#type": "type" },
          }),
        ),
      ),
    );
    const written = new Map<string, number>();
    for (const i of recent.flat()) {
      if (i.type !== PACK_TYPE) continue;
      const minute = minuteOf(packPosition(i));
      written.set(minute, (written.get(minute) ?? 0) + Number(i.n ?? 0));
    }
    const pending = [...written].filter(([m, n]) => n > (applied.get(m) ?? 0)).map(([m]) => m);
    const earliest = pending.sort()[0];
    if (earliest === undefined) return new Date(now).toISOString();
    return new Date(`${earliest}:00.000Z`).toISOString();
  }
}

/** Every partition a tenant's records of `day` are written to. */
const recordPartitions = (tenantId: string, day: string) =>
  Array.from({ length: RECORD_SHARDS }, (_, shard) => recordPk(tenantId, day, shard));

/** How far back freshness looks for packs not yet applied. */
export const FRESHNESS_WINDOW_MS = 15 * 60_000;

interface Found {
  readonly position: string;
  readonly record: UsageRecord;
}
const byPosition = (a: Found, b: Found) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0);
/** The time part of a position (`<time>#<requestId>`), or the whole string when it has none. */
const timeOf = (position: string) => (position.includes("#") ? position.slice(0, position.indexOf("#")) : position);

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
