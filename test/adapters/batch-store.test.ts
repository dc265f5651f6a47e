import { describe, expect, it } from "@jest/globals";
import { DynamoBatchStore } from "../../functions/aws/batch-store";
import { usageTable } from "../../functions/contract/tables";
import { newBatchId } from "../../functions/core/batch/ids";
import type { BatchRecord } from "../../functions/core/batch/state";
import { e2eTable, localDocumentClient } from "./dynamo";

const store = new DynamoBatchStore(localDocumentClient(), e2eTable(usageTable));
let n = 0;
const tenant = () => `bst-${process.pid}-${Date.now().toString(36)}-${n++}`;

function batch(tenantId: string, at: number, over: Partial<BatchRecord> = {}): BatchRecord {
  return {
    id: newBatchId(at),
    tenantId,
    principal: { tenantId, keyId: "K" },
    endpoint: "/v1/chat/completions",
    inputFileId: "file-x",
    completionWindow: "24h",
    status: "in_progress",
    createdAt: Math.floor(at / 1000),
    expiresAt: Math.floor(at / 1000) + 86_400,
    counts: { total: 40, completed: 0, failed: 0 },
    chunks: 2,
    chunksDone: 0,
    ...over,
  };
}

describe("DynamoBatchStore on DynamoDB Local", () => {
  it("keeps a batch's window end apart from the item's TTL, and moves a status only from the ones named", async () => {
    const t = tenant();
    const b = batch(t, Date.now());
    await store.createBatch(b);
    expect(await store.getBatch(t, b.id)).toEqual(b);
    expect(await store.activeBatches()).toContainEqual({ tenantId: t, batchId: b.id });
    expect(await store.updateBatch(t, b.id, ["validating"], { status: "failed" })).toBeUndefined();
    const done = await store.updateBatch(t, b.id, ["in_progress"], { status: "cancelled", cancelledAt: 5 });
    expect(done).toMatchObject({ status: "cancelled", cancelledAt: 5, expiresAt: b.expiresAt });
    // A terminal status takes the batch off the active list.
    expect(await store.activeBatches()).not.toContainEqual({ tenantId: t, batchId: b.id });
    // Another tenant reads nothing of it.
    expect(await store.getBatch(`${t}x`, b.id)).toBeUndefined();
  });

  it("starts a line once (the first start time stands) and counts a chunk once", async () => {
    const t = tenant();
    const b = batch(t, Date.now());
    await store.createBatch(b);
    expect(await store.startLine(t, b.id, 7, 1_000)).toEqual({ startedAt: 1_000 });
    expect(await store.startLine(t, b.id, 7, 2_000)).toEqual({ startedAt: 1_000 });
    const result = { line: 7, customId: "c", ok: true, output: '{"custom_id":"c"}' };
    await store.putLineResult(t, b.id, result);
    expect(await store.startLine(t, b.id, 7, 3_000)).toEqual({ startedAt: 1_000, result });
    expect(await store.lineResults(t, b.id)).toEqual([result]);
    expect(await store.isChunkDone(t, b.id, 0)).toBe(false);
    expect(await store.completeChunk(t, b.id, 0, { completed: 19, failed: 1 })).toMatchObject({
      chunksDone: 1,
      counts: { total: 40, completed: 19, failed: 1 },
    });
    expect(await store.completeChunk(t, b.id, 0, { completed: 19, failed: 1 })).toBeUndefined();
    expect(await store.isChunkDone(t, b.id, 0)).toBe(true);
    expect(await store.getBatch(t, b.id)).toMatchObject({ chunksDone: 1, counts: { completed: 19, failed: 1 } });
  });

  it("lists a tenant's batches newest first, a page at a time", async () => {
    const t = tenant();
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const b = batch(t, now + i * 1000);
      ids.push(b.id);
      await store.createBatch(b);
    }
    const first = await store.listBatches(t, { limit: 2 });
    expect({ ids: first.data.map((b) => b.id), more: first.hasMore }).toEqual({ ids: [ids[2], ids[1]], more: true });
    const next = await store.listBatches(t, { limit: 2, after: ids[1] as string });
    expect({ ids: next.data.map((b) => b.id), more: next.hasMore }).toEqual({ ids: [ids[0]], more: false });
  });
});
