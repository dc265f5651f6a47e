import { BatchGetCommand, type DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { GSI1 } from "../../infra/shared/tables";
import type { AccessRecord } from "../core/access";
import type { AccessLog } from "../core/ports";
import { ACCESS_SHARDS, accessGsi1pk, accessRecordOf } from "./access-items";
import { recordPk } from "./usage-items";

/** BatchGetItem's limit. */
const MAX_GET = 100;
const DAY_MS = 86_400_000;

/** Reads access records through gsi1, day by day and shard by shard (never a scan). */
export class DynamoAccessLog implements AccessLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async *accessRecords(fromTime: string, toTime: string): AsyncIterable<AccessRecord[]> {
    for (let day = Date.parse(fromTime.slice(0, 10)); day <= Date.parse(toTime); day += DAY_MS) {
      const d = new Date(day).toISOString().slice(0, 10);
      for (let shard = 0; shard < ACCESS_SHARDS; shard++) {
        const pages = paginateQuery(
          { client: this.doc },
          {
            TableName: this.table,
            IndexName: GSI1,
            KeyConditionExpression: "gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi",
            // '~' sorts after '#': a record at exactly `toTime` is in the range.
            ExpressionAttributeValues: { ":pk": accessGsi1pk(d, shard), ":lo": fromTime, ":hi": `${toTime}~` },
          },
        );
        for await (const page of pages) if (page.Items?.length) yield page.Items.map(accessRecordOf);
      }
    }
  }

  async usageRecorded(requestIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Set(requestIds)];
    for (let i = 0; i < unique.length; i += MAX_GET) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + MAX_GET).map((id) => ({ pk: recordPk(id), sk: "REQ" }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: "requestId" } } }),
        );
        for (const item of out.Responses?.[this.table] ?? []) found.add(String(item.requestId));
        // Throttled keys come back unprocessed: ask again until none are left.
        keys = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }
}
