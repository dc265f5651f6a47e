import type { BatchRecord, BatchStatus, FileRecord, RequestCounts } from "./state";

/** What one line came to: the JSON line it writes to the output or the error file. */
export interface LineResult {
  readonly line: number;
  readonly customId: string;
  /** A 2xx answer (output file) or not (error file). */
  readonly ok: boolean;
  /** The file line, `{"id","custom_id","response","error"}`, as JSON. */
  readonly output: string;
}

/** A line's start: when it was first started (its usage record's time) and its result, if it has one. */
export interface LineStart {
  readonly startedAt: number;
  readonly result?: LineResult;
}

export interface BatchPage {
  readonly data: BatchRecord[];
  readonly hasMore: boolean;
}

/** Batch and file metadata, and each line's progress (functions/aws/batch-store.ts on DynamoDB). */
export interface BatchStore {
  putFile(f: FileRecord): Promise<void>;
  getFile(tenantId: string, fileId: string): Promise<FileRecord | undefined>;
  /** True when it was there. */
  deleteFile(tenantId: string, fileId: string): Promise<boolean>;
  /** Stores a new batch and marks it active (the local host's queue finds active batches). */
  createBatch(b: BatchRecord): Promise<void>;
  getBatch(tenantId: string, batchId: string): Promise<BatchRecord | undefined>;
  /** The tenant's batches, newest first, after the batch `after` (exclusive). */
  listBatches(tenantId: string, o: { readonly after?: string; readonly limit: number }): Promise<BatchPage>;
  /**
   * Writes `patch` over the batch if its status is one of `from`: the new record, or undefined
   * when the status had moved on (another worker, a cancel). A terminal status clears the active mark.
   */
  updateBatch(
    tenantId: string,
    batchId: string,
    from: readonly BatchStatus[],
    patch: Partial<BatchRecord>,
  ): Promise<BatchRecord | undefined>;
  /** Starts a line once: its first start time is kept, so every run of it bills the same record. */
  startLine(tenantId: string, batchId: string, line: number, now: number): Promise<LineStart>;
  putLineResult(tenantId: string, batchId: string, r: LineResult): Promise<void>;
  /**
   * Marks a chunk done and adds its counts to the batch, both or neither: the batch after it,
   * or undefined when the chunk was already done (a redelivered message counts nothing twice).
   */
  completeChunk(tenantId: string, batchId: string, chunk: number, counts: Omit<RequestCounts, "total">): Promise<BatchRecord | undefined>;
  /** Whether a chunk was counted already (a redelivered chunk then runs nothing). */
  isChunkDone(tenantId: string, batchId: string, chunk: number): Promise<boolean>;
  /** Every line result of a batch, in line order. */
  lineResults(tenantId: string, batchId: string): Promise<LineResult[]>;
  /** Batches not yet in a terminal status, every tenant's (the local host's recovery after a restart). */
  activeBatches(): Promise<Array<{ readonly tenantId: string; readonly batchId: string }>>;
}

/** The bytes of files and chunks, in the model store bucket under `batch/<tenant>/` (functions/aws/batch-objects.ts). */
export interface BatchObjects {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  delete(key: string): Promise<void>;
  /** A URL the client PUTs the object to itself (files larger than the API takes), valid for `expiresInSeconds`. */
  presignPut(key: string, expiresInSeconds: number): Promise<string>;
  /** A URL the client GETs the object from itself (files larger than a function may answer), valid for `expiresInSeconds`. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
  /** Size of a stored object, or undefined when there is none. */
  size(key: string): Promise<number | undefined>;
}

/** A unit of the worker's work: check a batch's input, run a chunk of its lines, or write its files. */
export type BatchMessage =
  | { readonly step: "validate"; readonly tenantId: string; readonly batchId: string }
  | { readonly step: "chunk"; readonly tenantId: string; readonly batchId: string; readonly chunk: number }
  | { readonly step: "finalize"; readonly tenantId: string; readonly batchId: string };

/** Where work goes (cloud: SQS with a dead-letter queue; local: the host's queue over the store). */
export interface BatchQueue {
  send(messages: readonly BatchMessage[]): Promise<void>;
}

/** At most so many calls per key at once (functions/aws/keyed-gate.ts is one). */
export interface LineGate {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Object keys: everything of a tenant under one prefix, which the bucket's lifecycle rule expires. */
export const BATCH_PREFIX = "batch/";
export const fileKey = (tenantId: string, fileId: string) => `${BATCH_PREFIX}${tenantId}/files/${fileId}`;
export const chunkKey = (tenantId: string, batchId: string, chunk: number) => `${BATCH_PREFIX}${tenantId}/${batchId}/chunk-${chunk}.jsonl`;
