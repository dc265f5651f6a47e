import type { AuthorizerContext } from "../principal";
import type { BatchLineError } from "./jsonl";

/**
 * A batch's life, as OpenAI names it: validating → in_progress → finalizing → completed; or
 * failed (the input file did not validate), expired (the completion window ended first),
 * cancelling → cancelled. The store moves a batch only along these edges, each move conditional
 * on the status it leaves, so two workers (a redelivered message) never both make one.
 */
export const BATCH_STATUSES = [
  "validating",
  "failed",
  "in_progress",
  "finalizing",
  "completed",
  "expired",
  "cancelling",
  "cancelled",
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

const NEXT: Readonly<Record<BatchStatus, readonly BatchStatus[]>> = {
  validating: ["in_progress", "failed", "cancelling", "expired"],
  in_progress: ["finalizing", "cancelling"],
  // Finalizing decides between completed and expired (lines the window left unrun).
  finalizing: ["completed", "expired"],
  cancelling: ["cancelled"],
  failed: [],
  completed: [],
  expired: [],
  cancelled: [],
};

export const canMove = (from: BatchStatus, to: BatchStatus): boolean => NEXT[from].includes(to);
export const isTerminal = (s: BatchStatus): boolean => NEXT[s].length === 0;
/** Statuses in which a cancel is taken (OpenAI's: a batch not yet finished). */
export const isCancellable = (s: BatchStatus): boolean => s === "validating" || s === "in_progress";

/** The only completion window OpenAI offers. */
export const COMPLETION_WINDOWS = { "24h": 24 * 3600 } as const;
export type CompletionWindow = keyof typeof COMPLETION_WINDOWS;

/** Which timestamp field each status stamps when a batch enters it. */
export const STATUS_TIME: Partial<Record<BatchStatus, keyof BatchTimes>> = {
  in_progress: "inProgressAt",
  finalizing: "finalizingAt",
  completed: "completedAt",
  failed: "failedAt",
  expired: "expiredAt",
  cancelling: "cancellingAt",
  cancelled: "cancelledAt",
};

/** Epoch seconds, as OpenAI's objects carry them. */
export interface BatchTimes {
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly inProgressAt?: number;
  readonly finalizingAt?: number;
  readonly completedAt?: number;
  readonly failedAt?: number;
  readonly expiredAt?: number;
  readonly cancellingAt?: number;
  readonly cancelledAt?: number;
}

export interface RequestCounts {
  readonly total: number;
  readonly completed: number;
  readonly failed: number;
}

/** A batch as stored: OpenAI's fields plus who runs it and how far the work has got. */
export interface BatchRecord extends BatchTimes {
  readonly id: string;
  readonly tenantId: string;
  /** The creating key's authorization, as the authorizer gave it: each line runs as that key. */
  readonly principal: AuthorizerContext;
  readonly endpoint: string;
  readonly inputFileId: string;
  readonly completionWindow: CompletionWindow;
  readonly status: BatchStatus;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly errors?: readonly BatchLineError[];
  readonly counts: RequestCounts;
  /** Units of work (queue messages) the lines are split into, and how many are done. */
  readonly chunks: number;
  readonly chunksDone: number;
  readonly model?: string;
  readonly outputFileId?: string;
  readonly errorFileId?: string;
}

/** OpenAI's batch object. */
export function batchObject(b: BatchRecord): Record<string, unknown> {
  return {
    id: b.id,
    object: "batch",
    endpoint: b.endpoint,
    errors: b.errors && b.errors.length > 0 ? { object: "list", data: b.errors.map(errorEntry) } : null,
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status: b.status,
    output_file_id: b.outputFileId ?? null,
    error_file_id: b.errorFileId ?? null,
    created_at: b.createdAt,
    in_progress_at: b.inProgressAt ?? null,
    expires_at: b.expiresAt,
    finalizing_at: b.finalizingAt ?? null,
    completed_at: b.completedAt ?? null,
    failed_at: b.failedAt ?? null,
    expired_at: b.expiredAt ?? null,
    cancelling_at: b.cancellingAt ?? null,
    cancelled_at: b.cancelledAt ?? null,
    request_counts: { total: b.counts.total, completed: b.counts.completed, failed: b.counts.failed },
    metadata: b.metadata ?? null,
  };
}

function errorEntry(e: BatchLineError) {
  return { code: e.code, message: e.message, param: e.param ?? null, line: e.line ?? null };
}

/** What a file is for: `batch` (an input the tenant uploaded) or `batch_output` (what a batch wrote). */
export type FilePurpose = "batch" | "batch_output";

export interface FileRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly bytes: number;
  readonly createdAt: number;
  readonly filename: string;
  readonly purpose: FilePurpose;
  /** When the file (and its object, by the bucket's lifecycle rule) goes away, epoch seconds. */
  readonly expiresAt: number;
}

/** OpenAI's file object. */
export function fileObject(f: FileRecord): Record<string, unknown> {
  return {
    id: f.id,
    object: "file",
    bytes: f.bytes,
    created_at: f.createdAt,
    expires_at: f.expiresAt,
    filename: f.filename,
    purpose: f.purpose,
    status: "processed",
    status_details: null,
  };
}

/** How long files and finished batches are kept: the bucket's lifecycle rule on the batch prefix says the same. */
export const BATCH_RETENTION_DAYS = 30;
