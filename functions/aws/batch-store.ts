import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { activeSk, BATCH_ACTIVE_PK, batchFilePk, batchLinePk, batchPk, chunkSk, lineSk } from "../contract/batch-keys";
import type { BatchPage, BatchStore, LineResult, LineStart } from "../core/batch/ports";
import {
  BATCH_RETENTION_DAYS,
  type BatchRecord,
  type BatchStatus,
  type FileRecord,
  isTerminal,
  type RequestCounts,
} from "../core/batch/state";
import { isConditionFailed, whenConditionFails, whenTransactionCancelled } from "./conditions";
import { queryAll } from "./query-all";

const KEEP_SECONDS = BATCH_RETENTION_DAYS * 86_400;

/**
 * The Batch API's metadata in the usage table (functions/contract/batch-keys.ts). A batch's
 * `expiresAt` (the end of its completion window) is stored as `windowEndsAt`: the table's TTL
 * attribute is `expiresAt`, and a batch is kept for the retention period, not its window.
 */
export class DynamoBatchStore implements BatchStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putFile(f: FileRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: batchFilePk(f.tenantId), sk: f.id, type: "batch-file", ...f } }),
    );
  }

  async getFile(tenantId: string, fileId: string): Promise<FileRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: batchFilePk(tenantId), sk: fileId }, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, type: _type, ...f } = out.Item;
    return f as FileRecord;
  }

  async deleteFile(tenantId: string, fileId: string): Promise<boolean> {
    const out = await this.doc.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: batchFilePk(tenantId), sk: fileId }, ReturnValues: "ALL_OLD" }),
    );
    return out.Attributes !== undefined;
  }

  async createBatch(b: BatchRecord): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.table, Item: toItem(b), ConditionExpression: "attribute_not_exists(pk)" } },
          {
            Put: {
              TableName: this.table,
              Item: {
                pk: BATCH_ACTIVE_PK,
                sk: activeSk(b.tenantId, b.id),
                tenantId: b.tenantId,
                batchId: b.id,
                expiresAt: b.createdAt + KEEP_SECONDS,
              },
            },
          },
        ],
      }),
    );
  }

  async getBatch(tenantId: string, batchId: string): Promise<BatchRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: batchPk(tenantId), sk: batchId }, ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async listBatches(tenantId: string, o: { readonly after?: string; readonly limit: number }): Promise<BatchPage> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": batchPk(tenantId) },
        ScanIndexForward: false,
        // One more than asked: whether there is a next page, without a second query.
        Limit: o.limit + 1,
        ...(o.after ? { ExclusiveStartKey: { pk: batchPk(tenantId), sk: o.after } } : {}),
      }),
    );
    const items = (out.Items ?? []).map(fromItem);
    return { data: items.slice(0, o.limit), hasMore: items.length > o.limit };
  }

  async updateBatch(
    tenantId: string,
    batchId: string,
    from: readonly BatchStatus[],
    patch: Partial<BatchRecord>,
  ): Promise<BatchRecord | undefined> {
    const names: Record<string, string> = { "#status": "status" };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    Object.entries(patch).forEach(([k, v], i) => {
      if (v === undefined || k === "id" || k === "tenantId") return;
      names[`#f${i}`] = k === "expiresAt" ? "windowEndsAt" : k;
      values[`:v${i}`] = v;
      sets.push(`#f${i} = :v${i}`);
    });
    from.forEach((s, i) => {
      values[`:from${i}`] = s;
    });
    const updated = await whenConditionFails(
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: batchPk(tenantId), sk: batchId },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${from.map((_, i) => `:from${i}`).join(", ")})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      ),
      () => undefined,
    );
    if (!updated?.Attributes) return undefined;
    const b = fromItem(updated.Attributes);
    if (isTerminal(b.status)) {
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: BATCH_ACTIVE_PK, sk: activeSk(tenantId, batchId) } }));
    }
    return b;
  }

  async startLine(tenantId: string, batchId: string, line: number, now: number): Promise<LineStart> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: batchLinePk(tenantId, batchId), sk: lineSk(line), startedAt: now, expiresAt: Math.floor(now / 1000) + KEEP_SECONDS },
          ConditionExpression: "attribute_not_exists(pk)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { startedAt: now };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // Started before (a crash, a redelivery): the first start stands, and its result if it has one.
      const old = (err as { Item?: Record<string, unknown> }).Item;
      const item = old ? unmarshall(old as Parameters<typeof unmarshall>[0]) : await this.lineItem(tenantId, batchId, line);
      return { startedAt: Number(item?.startedAt ?? now), ...(item?.output !== undefined ? { result: lineResultOf(item) } : {}) };
    }
  }

  private async lineItem(tenantId: string, batchId: string, line: number) {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: batchLinePk(tenantId, batchId), sk: lineSk(line) }, ConsistentRead: true }),
    );
    return out.Item;
  }

  async putLineResult(tenantId: string, batchId: string, r: LineResult): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: batchLinePk(tenantId, batchId), sk: lineSk(r.line) },
        UpdateExpression: "SET customId = :c, ok = :ok, #output = :o",
        ExpressionAttributeNames: { "#output": "output" },
        ExpressionAttributeValues: { ":c": r.customId, ":ok": r.ok, ":o": r.output },
      }),
    );
  }

  async completeChunk(
    tenantId: string,
    batchId: string,
    chunk: number,
    counts: Omit<RequestCounts, "total">,
  ): Promise<BatchRecord | undefined> {
    // A chunk already counted cancels the transaction on its first item: nothing to add, not a failure.
    class AlreadyCounted extends Error {}
    try {
      await whenTransactionCancelled(
        this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: { pk: batchLinePk(tenantId, batchId), sk: chunkSk(chunk), ...counts },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              {
                Update: {
                  TableName: this.table,
                  Key: { pk: batchPk(tenantId), sk: batchId },
                  UpdateExpression:
                    "SET chunksDone = chunksDone + :one, counts.completed = counts.completed + :c, counts.failed = counts.failed + :f",
                  ExpressionAttributeValues: { ":one": 1, ":c": counts.completed, ":f": counts.failed },
                  ConditionExpression: "attribute_exists(pk)",
                },
              },
            ],
          }),
        ),
        (failed) => {
          if (failed[0]) throw new AlreadyCounted();
        },
      );
    } catch (err) {
      if (err instanceof AlreadyCounted) return undefined;
      throw err;
    }
    return this.getBatch(tenantId, batchId);
  }

  async isChunkDone(tenantId: string, batchId: string, chunk: number): Promise<boolean> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: batchLinePk(tenantId, batchId), sk: chunkSk(chunk) }, ConsistentRead: true }),
    );
    return out.Item !== undefined;
  }

  async lineResults(tenantId: string, batchId: string): Promise<LineResult[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :l)",
      FilterExpression: "attribute_exists(#output)",
      ExpressionAttributeNames: { "#output": "output" },
      ExpressionAttributeValues: { ":pk": batchLinePk(tenantId, batchId), ":l": "L#" },
      ConsistentRead: true,
    });
    return items.map(lineResultOf);
  }

  async activeBatches(): Promise<Array<{ tenantId: string; batchId: string }>> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": BATCH_ACTIVE_PK },
      ConsistentRead: true,
    });
    return items.map((i) => ({ tenantId: String(i.tenantId), batchId: String(i.batchId) }));
  }
}

function toItem(b: BatchRecord): Record<string, unknown> {
  const { expiresAt, ...rest } = b;
  return { pk: batchPk(b.tenantId), sk: b.id, type: "batch", ...rest, windowEndsAt: expiresAt, expiresAt: b.createdAt + KEEP_SECONDS };
}

function fromItem(item: Record<string, unknown>): BatchRecord {
  const { pk: _pk, sk: _sk, type: _type, expiresAt: _ttl, windowEndsAt, ...rest } = item;
  return { ...(rest as unknown as BatchRecord), expiresAt: Number(windowEndsAt) };
}

function lineResultOf(item: Record<string, unknown>): LineResult {
  return { line: Number(String(item.sk).slice(2)), customId: String(item.customId), ok: item.ok === true, output: String(item.output) };
}
