import type {
  BatchMessage,
  BatchObjects,
  BatchPage,
  BatchQueue,
  BatchStore,
  LineResult,
  LineStart,
} from "../../../functions/core/batch/ports";
import { type BatchRecord, type BatchStatus, type FileRecord, isTerminal, type RequestCounts } from "../../../functions/core/batch/state";

/** The batch store in memory, with the DynamoDB adapter's conditions (status moves, chunks counted once). */
export class MemoryBatchStore implements BatchStore {
  readonly files = new Map<string, FileRecord>();
  readonly batches = new Map<string, BatchRecord>();
  readonly lines = new Map<string, { startedAt: number; result?: LineResult }>();
  readonly chunks = new Set<string>();

  async putFile(f: FileRecord) {
    this.files.set(`${f.tenantId}/${f.id}`, f);
  }
  async getFile(tenantId: string, fileId: string) {
    return this.files.get(`${tenantId}/${fileId}`);
  }
  async deleteFile(tenantId: string, fileId: string) {
    return this.files.delete(`${tenantId}/${fileId}`);
  }
  async createBatch(b: BatchRecord) {
    this.batches.set(`${b.tenantId}/${b.id}`, b);
  }
  async getBatch(tenantId: string, batchId: string) {
    return this.batches.get(`${tenantId}/${batchId}`);
  }
  async listBatches(tenantId: string, o: { after?: string; limit: number }): Promise<BatchPage> {
    const all = [...this.batches.values()]
      .filter((b) => b.tenantId === tenantId && (o.after === undefined || b.id < o.after))
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    return { data: all.slice(0, o.limit), hasMore: all.length > o.limit };
  }
  async updateBatch(tenantId: string, batchId: string, from: readonly BatchStatus[], patch: Partial<BatchRecord>) {
    const b = this.batches.get(`${tenantId}/${batchId}`);
    if (!b || !from.includes(b.status)) return undefined;
    const next = { ...b, ...patch };
    this.batches.set(`${tenantId}/${batchId}`, next);
    return next;
  }
  async startLine(tenantId: string, batchId: string, line: number, now: number): Promise<LineStart> {
    const key = `${tenantId}/${batchId}/${line}`;
    const existing = this.lines.get(key);
    if (existing) return existing;
    this.lines.set(key, { startedAt: now });
    return { startedAt: now };
  }
  async putLineResult(tenantId: string, batchId: string, r: LineResult) {
    const key = `${tenantId}/${batchId}/${r.line}`;
    this.lines.set(key, { startedAt: this.lines.get(key)?.startedAt ?? 0, result: r });
  }
  async completeChunk(tenantId: string, batchId: string, chunk: number, counts: Omit<RequestCounts, "total">) {
    const key = `${tenantId}/${batchId}/${chunk}`;
    const b = this.batches.get(`${tenantId}/${batchId}`);
    if (this.chunks.has(key) || !b) return undefined;
    this.chunks.add(key);
    const next: BatchRecord = {
      ...b,
      chunksDone: b.chunksDone + 1,
      counts: { total: b.counts.total, completed: b.counts.completed + counts.completed, failed: b.counts.failed + counts.failed },
    };
    this.batches.set(`${tenantId}/${batchId}`, next);
    return next;
  }
  async isChunkDone(tenantId: string, batchId: string, chunk: number) {
    return this.chunks.has(`${tenantId}/${batchId}/${chunk}`);
  }
  async lineResults(tenantId: string, batchId: string) {
    const prefix = `${tenantId}/${batchId}/`;
    return [...this.lines.entries()]
      .filter(([k, v]) => k.startsWith(prefix) && v.result)
      .map(([, v]) => v.result as LineResult)
      .sort((a, b) => a.line - b.line);
  }
  async activeBatches() {
    return [...this.batches.values()].filter((b) => !isTerminal(b.status)).map((b) => ({ tenantId: b.tenantId, batchId: b.id }));
  }
}

export class MemoryBatchObjects implements BatchObjects {
  readonly objects = new Map<string, Uint8Array>();
  async put(key: string, body: Uint8Array) {
    this.objects.set(key, body);
  }
  async get(key: string) {
    return this.objects.get(key);
  }
  async delete(key: string) {
    this.objects.delete(key);
  }
  async size(key: string) {
    return this.objects.get(key)?.byteLength;
  }
  async presignPut(key: string, expiresInSeconds: number) {
    return `https://bucket.example/${key}?X-Amz-Expires=${expiresInSeconds}`;
  }
  async presignGet(key: string, expiresInSeconds: number) {
    return `https://bucket.example/${key}?X-Amz-Expires=${expiresInSeconds}&get`;
  }
}

/** Messages kept until a test works them off (`drain`), as SQS holds them for the worker. */
export class MemoryBatchQueue implements BatchQueue {
  readonly messages: BatchMessage[] = [];
  async send(messages: readonly BatchMessage[]) {
    this.messages.push(...messages);
  }
  /** Delivers every message, and those they send, to `run`; returns how many were delivered. */
  async drain(run: (m: BatchMessage) => Promise<void>): Promise<number> {
    let n = 0;
    for (let m = this.messages.shift(); m; m = this.messages.shift()) {
      await run(m);
      n += 1;
    }
    return n;
  }
}
