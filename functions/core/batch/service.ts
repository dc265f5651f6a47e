import { BadRequestError, ConflictError, NotFoundError, PayloadTooLargeError } from "../errors";
import { type Principal, principalToContext, requireScope } from "../principal";
import { BATCH_ENDPOINTS, batchEndpointNames } from "./endpoints";
import { isBatchId, isFileId, newBatchId, newFileId } from "./ids";
import { type BatchObjects, type BatchQueue, type BatchStore, fileKey } from "./ports";
import {
  BATCH_RETENTION_DAYS,
  type BatchRecord,
  batchObject,
  COMPLETION_WINDOWS,
  type CompletionWindow,
  type FileRecord,
  fileObject,
  isCancellable,
} from "./state";

/**
 * The Batch API's operations for the calling tenant: files (upload, read, delete) and batches
 * (create, read, list, cancel). Every read is keyed by the caller's tenant, so another tenant's
 * id is simply not found (404), never "forbidden": ids leak nothing.
 */
export interface BatchApiDeps {
  readonly store: BatchStore;
  readonly objects: BatchObjects;
  readonly queue: BatchQueue;
  readonly now?: () => number;
  /** Files larger than this are answered with a redirect to a presigned GET. @default MAX_DIRECT_CONTENT_BYTES */
  readonly maxDirectContentBytes?: number;
}

/** API Gateway's payload limit: larger files go through a presigned upload (`modelgate batches submit`). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** The most a presigned upload may be: OpenAI's own limit for a batch input file. */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;
/** How long a presigned upload URL is good for. */
export const UPLOAD_URL_SECONDS = 900;
/**
 * The largest file content answered through the function itself: a Lambda response carries at
 * most 6 MB, and API Gateway passes binary bodies base64-encoded (4 MiB → ~5.6 MB). Larger
 * content is a redirect to a presigned GET of the object, which clients (the openai SDK's fetch
 * included) follow without sending their API key to the other origin.
 */
export const MAX_DIRECT_CONTENT_BYTES = 4 * 1024 * 1024;
/** How long a presigned download URL is good for. */
export const DOWNLOAD_URL_SECONDS = 300;

const nowOf = (deps: BatchApiDeps) => (deps.now ?? Date.now)();
const seconds = (ms: number) => Math.floor(ms / 1000);

export interface NewFile {
  readonly filename: string;
  readonly purpose: string;
  readonly bytes: Uint8Array;
}

function checkFile(filename: string, purpose: string, bytes: number, max: number): void {
  if (purpose !== "batch") throw new BadRequestError(`purpose must be 'batch', got '${purpose}'`);
  if (!filename || filename.length > 255) throw new BadRequestError("file must have a name of 1 to 255 characters");
  if (bytes === 0) throw new BadRequestError("file is empty");
  if (bytes > max) throw new PayloadTooLargeError(`file is ${bytes} bytes; the limit is ${max} (larger files: modelgate batches submit)`);
}

function fileRecord(deps: BatchApiDeps, tenantId: string, id: string, filename: string, bytes: number): FileRecord {
  const created = seconds(nowOf(deps));
  return { id, tenantId, bytes, createdAt: created, filename, purpose: "batch", expiresAt: created + BATCH_RETENTION_DAYS * 86_400 };
}

export async function createFile(deps: BatchApiDeps, p: Principal, f: NewFile) {
  requireScope(p, "invoke");
  checkFile(f.filename, f.purpose, f.bytes.byteLength, MAX_FILE_BYTES);
  const id = newFileId();
  await deps.objects.put(fileKey(p.tenantId, id), f.bytes, "application/jsonl");
  const record = fileRecord(deps, p.tenantId, id, f.filename, f.bytes.byteLength);
  await deps.store.putFile(record);
  return fileObject(record);
}

/** Step one of a large upload: a file id and a URL to PUT the file's bytes to. */
export async function createUpload(deps: BatchApiDeps, p: Principal, body: { filename?: unknown; bytes?: unknown }) {
  requireScope(p, "invoke");
  const filename = typeof body.filename === "string" ? body.filename : "";
  const bytes = typeof body.bytes === "number" && Number.isSafeInteger(body.bytes) ? body.bytes : 0;
  checkFile(filename, "batch", bytes, MAX_UPLOAD_BYTES);
  const id = newFileId();
  const url = await deps.objects.presignPut(fileKey(p.tenantId, id), UPLOAD_URL_SECONDS);
  return { file_id: id, upload_url: url, method: "PUT", expires_at: seconds(nowOf(deps)) + UPLOAD_URL_SECONDS };
}

/** Step two: the uploaded object becomes a file (its size as stored, not as announced). */
export async function completeUpload(deps: BatchApiDeps, p: Principal, fileId: string, body: { filename?: unknown }) {
  requireScope(p, "invoke");
  if (!isFileId(fileId)) throw notFoundFile(fileId);
  const existing = await deps.store.getFile(p.tenantId, fileId);
  if (existing) return fileObject(existing);
  const size = await deps.objects.size(fileKey(p.tenantId, fileId));
  if (size === undefined) throw new NotFoundError(`nothing was uploaded for ${fileId}; PUT the file to its upload_url first`);
  const filename = typeof body.filename === "string" && body.filename ? body.filename : `${fileId}.jsonl`;
  checkFile(filename, "batch", size, MAX_UPLOAD_BYTES);
  const record = fileRecord(deps, p.tenantId, fileId, filename, size);
  await deps.store.putFile(record);
  return fileObject(record);
}

const notFoundFile = (id: string) => new NotFoundError(`No such File object: ${id}`);
const notFoundBatch = (id: string) => new NotFoundError(`No such Batch object: ${id}`);

async function ownFile(deps: BatchApiDeps, p: Principal, fileId: string): Promise<FileRecord> {
  requireScope(p, "invoke");
  const f = isFileId(fileId) ? await deps.store.getFile(p.tenantId, fileId) : undefined;
  if (!f) throw notFoundFile(fileId);
  return f;
}

export async function getFile(deps: BatchApiDeps, p: Principal, fileId: string) {
  return fileObject(await ownFile(deps, p, fileId));
}

/** A file's content: its bytes, or for a large file where to fetch them (a presigned GET). */
export type FileContent = { readonly kind: "bytes"; readonly bytes: Uint8Array } | { readonly kind: "redirect"; readonly url: string };

export async function fileContent(deps: BatchApiDeps, p: Principal, fileId: string): Promise<FileContent> {
  const f = await ownFile(deps, p, fileId);
  const key = fileKey(p.tenantId, f.id);
  const size = await deps.objects.size(key);
  if (size === undefined) throw notFoundFile(fileId);
  if (size > (deps.maxDirectContentBytes ?? MAX_DIRECT_CONTENT_BYTES)) {
    return { kind: "redirect", url: await deps.objects.presignGet(key, DOWNLOAD_URL_SECONDS) };
  }
  const bytes = await deps.objects.get(key);
  if (!bytes) throw notFoundFile(fileId);
  return { kind: "bytes", bytes };
}

export async function deleteFile(deps: BatchApiDeps, p: Principal, fileId: string) {
  const f = await ownFile(deps, p, fileId);
  await deps.objects.delete(fileKey(p.tenantId, f.id));
  await deps.store.deleteFile(p.tenantId, f.id);
  return { id: f.id, object: "file", deleted: true };
}

export interface NewBatch {
  readonly input_file_id?: unknown;
  readonly endpoint?: unknown;
  readonly completion_window?: unknown;
  readonly metadata?: unknown;
}

export async function createBatch(deps: BatchApiDeps, p: Principal, body: NewBatch) {
  requireScope(p, "invoke");
  const endpoint = body.endpoint;
  if (typeof endpoint !== "string" || !BATCH_ENDPOINTS[endpoint]) {
    throw new BadRequestError(`endpoint must be one of ${batchEndpointNames().join(", ")}, got ${JSON.stringify(endpoint)}`);
  }
  const window = body.completion_window;
  if (typeof window !== "string" || !(window in COMPLETION_WINDOWS)) {
    throw new BadRequestError(`completion_window must be '24h', got ${JSON.stringify(window)}`);
  }
  const metadata = checkMetadata(body.metadata);
  const inputFileId = body.input_file_id;
  if (typeof inputFileId !== "string") throw new BadRequestError("input_file_id must be a file id");
  const file = await ownFile(deps, p, inputFileId);
  if (file.purpose !== "batch") throw new BadRequestError(`file ${file.id} is a batch's output, not an input (purpose 'batch')`);
  const now = nowOf(deps);
  const created = seconds(now);
  const batch: BatchRecord = {
    id: newBatchId(now),
    tenantId: p.tenantId,
    principal: principalToContext(p),
    endpoint,
    inputFileId: file.id,
    completionWindow: window as CompletionWindow,
    status: "validating",
    createdAt: created,
    expiresAt: created + COMPLETION_WINDOWS[window as CompletionWindow],
    ...(metadata ? { metadata } : {}),
    counts: { total: 0, completed: 0, failed: 0 },
    chunks: 0,
    chunksDone: 0,
  };
  await deps.store.createBatch(batch);
  await deps.queue.send([{ step: "validate", tenantId: p.tenantId, batchId: batch.id }]);
  return batchObject(batch);
}

/** OpenAI's metadata: at most 16 pairs, keys up to 64 characters, values up to 512. */
function checkMetadata(m: unknown): Record<string, string> | undefined {
  if (m === undefined || m === null) return undefined;
  if (typeof m !== "object" || Array.isArray(m)) throw new BadRequestError("metadata must be an object of strings");
  const entries = Object.entries(m as Record<string, unknown>);
  if (entries.length > 16) throw new BadRequestError("metadata takes at most 16 keys");
  for (const [k, v] of entries) {
    if (k.length > 64) throw new BadRequestError(`metadata key '${k.slice(0, 64)}…' is longer than 64 characters`);
    if (typeof v !== "string" || v.length > 512) throw new BadRequestError(`metadata.${k} must be a string of at most 512 characters`);
  }
  return entries.length > 0 ? (m as Record<string, string>) : undefined;
}

async function ownBatch(deps: BatchApiDeps, p: Principal, batchId: string): Promise<BatchRecord> {
  requireScope(p, "invoke");
  const b = isBatchId(batchId) ? await deps.store.getBatch(p.tenantId, batchId) : undefined;
  if (!b) throw notFoundBatch(batchId);
  return b;
}

export async function getBatch(deps: BatchApiDeps, p: Principal, batchId: string) {
  return batchObject(await ownBatch(deps, p, batchId));
}

export async function listBatches(deps: BatchApiDeps, p: Principal, q: { after?: string | undefined; limit?: string | undefined }) {
  requireScope(p, "invoke");
  const limit = q.limit === undefined ? 20 : /^\d+$/.test(q.limit) ? Number(q.limit) : Number.NaN;
  if (!(limit >= 1 && limit <= 100)) throw new BadRequestError(`limit must be an integer from 1 to 100, got '${q.limit}'`);
  if (q.after !== undefined && !isBatchId(q.after)) throw new BadRequestError(`after must be a batch id, got '${q.after}'`);
  const page = await deps.store.listBatches(p.tenantId, { limit, ...(q.after ? { after: q.after } : {}) });
  const data = page.data.map(batchObject);
  return { object: "list", data, first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null, has_more: page.hasMore };
}

/** Stops new lines; the lines done are billed and written to the files when the batch is `cancelled`. */
export async function cancelBatch(deps: BatchApiDeps, p: Principal, batchId: string) {
  const b = await ownBatch(deps, p, batchId);
  if (b.status === "cancelling" || b.status === "cancelled") return batchObject(b);
  if (!isCancellable(b.status))
    throw new ConflictError(`batch ${b.id} is ${b.status}; only a validating or in_progress batch can be cancelled`);
  const moved = await deps.store.updateBatch(p.tenantId, b.id, ["validating", "in_progress"], {
    status: "cancelling",
    cancellingAt: seconds(nowOf(deps)),
  });
  if (!moved) return getBatch(deps, p, batchId);
  await deps.queue.send([{ step: "finalize", tenantId: p.tenantId, batchId: b.id }]);
  return batchObject(moved);
}
