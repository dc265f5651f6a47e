import type { InferenceDeps } from "../inference";
import { principalFromContext } from "../principal";
import { BATCH_ENDPOINTS } from "./endpoints";
import { batchFileId, lineRequestId } from "./ids";
import { type BatchLine, chunkCount, LINES_PER_CHUNK, validateBatchInput } from "./jsonl";
import {
  type BatchMessage,
  type BatchObjects,
  type BatchQueue,
  type BatchStore,
  chunkKey,
  fileKey,
  type LineGate,
  type LineResult,
} from "./ports";
import { BATCH_RETENTION_DAYS, type BatchRecord, type BatchStatus, isTerminal } from "./state";

export interface BatchWorkerDeps {
  readonly store: BatchStore;
  readonly objects: BatchObjects;
  readonly queue: BatchQueue;
  /** The inference path's ports, as the interactive model functions have them. */
  readonly inference: InferenceDeps;
  /** Lines of one chunk in flight at once. */
  readonly lineConcurrency: number;
  /** Bounds this worker's calls per model, across the chunks it runs at once. */
  readonly gate?: LineGate;
  readonly now?: () => number;
}

/**
 * The batch worker's three steps, each idempotent so that a message delivered twice, or again
 * after a crash, changes nothing more: validate (input file → chunks, or `failed`), chunk (run
 * its lines that have no result yet, then count the chunk once), finalize (write the output and
 * error files from the line results, then the terminal status).
 */
export async function runBatchStep(deps: BatchWorkerDeps, msg: BatchMessage): Promise<void> {
  const batch = await deps.store.getBatch(msg.tenantId, msg.batchId);
  if (!batch) return;
  if (msg.step === "validate") return validate(deps, batch);
  if (msg.step === "chunk") return runChunk(deps, batch, msg.chunk);
  return finalize(deps, batch);
}

const seconds = (ms: number) => Math.floor(ms / 1000);

async function validate(deps: BatchWorkerDeps, batch: BatchRecord): Promise<void> {
  const now = (deps.now ?? Date.now)();
  let b: BatchRecord | undefined = batch;
  if (b.status === "validating") {
    const endpoint = BATCH_ENDPOINTS[b.endpoint];
    const bytes = await deps.objects.get(fileKey(b.tenantId, b.inputFileId));
    const v =
      !endpoint || !bytes
        ? ({ ok: false, errors: [{ code: "invalid_file", message: `input file ${b.inputFileId} could not be read` }] } as const)
        : validateBatchInput(Buffer.from(bytes).toString("utf8"), { endpoint: b.endpoint, checkBody: endpoint.checkBody });
    if (!v.ok) {
      await deps.store.updateBatch(b.tenantId, b.id, ["validating"], { status: "failed", failedAt: seconds(now), errors: v.errors });
      return;
    }
    const chunks = chunkCount(v.lines.length);
    for (let c = 0; c < chunks; c++) {
      const lines = v.lines.slice(c * LINES_PER_CHUNK, (c + 1) * LINES_PER_CHUNK);
      await deps.objects.put(
        chunkKey(b.tenantId, b.id, c),
        Buffer.from(lines.map((l) => JSON.stringify(l)).join("\n")),
        "application/jsonl",
      );
    }
    b =
      (await deps.store.updateBatch(b.tenantId, b.id, ["validating"], {
        status: "in_progress",
        inProgressAt: seconds(now),
        counts: { total: v.lines.length, completed: 0, failed: 0 },
        chunks,
        chunksDone: 0,
        model: v.model,
      })) ?? (await deps.store.getBatch(b.tenantId, b.id));
  }
  if (!b) return;
  // Sent again on a redelivery, too: a chunk already done is a no-op, a lost message is not.
  if (b.status === "in_progress") {
    const ids = { tenantId: b.tenantId, batchId: b.id };
    await deps.queue.send(Array.from({ length: b.chunks }, (_, chunk) => ({ step: "chunk" as const, ...ids, chunk })));
  } else if (b.status === "cancelling") {
    await deps.queue.send([{ step: "finalize", tenantId: b.tenantId, batchId: b.id }]);
  }
}

async function runChunk(deps: BatchWorkerDeps, batch: BatchRecord, chunk: number): Promise<void> {
  const now = deps.now ?? Date.now;
  const runs = batch.status === "in_progress" || batch.status === "cancelling";
  if (runs && !(await deps.store.isChunkDone(batch.tenantId, batch.id, chunk))) {
    const bytes = await deps.objects.get(chunkKey(batch.tenantId, batch.id, chunk));
    const lines: BatchLine[] = bytes
      ? Buffer.from(bytes)
          .toString("utf8")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as BatchLine)
      : [];
    const results = await runLines(deps, batch, lines, now);
    const completed = results.filter((r) => r?.ok).length;
    const failed = results.filter((r) => r && !r.ok).length;
    await deps.store.completeChunk(batch.tenantId, batch.id, chunk, { completed, failed });
  }
  const after = await deps.store.getBatch(batch.tenantId, batch.id);
  if (!after) return;
  const allDone = after.chunksDone >= after.chunks;
  // The last chunk finalizes; so does a chunk that ends after a cancel (its lines join the files).
  if (
    (after.status === "in_progress" && allDone) ||
    after.status === "cancelling" ||
    (after.status === "cancelled" && batch.status !== "cancelled")
  ) {
    await finalize(deps, after);
  }
}

/** Runs the lines without a result, `lineConcurrency` at a time; stops starting lines on a cancel or at expiry. */
async function runLines(deps: BatchWorkerDeps, batch: BatchRecord, lines: readonly BatchLine[], now: () => number) {
  const results: Array<LineResult | undefined> = new Array(lines.length);
  const principal = principalFromContext(batch.principal, Number.NEGATIVE_INFINITY);
  const endpoint = BATCH_ENDPOINTS[batch.endpoint];
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < lines.length) {
      const i = next++;
      const line = lines[i] as BatchLine;
      // A cancel stops new lines (re-read per line: a cancel lands while a chunk runs).
      const current = await deps.store.getBatch(batch.tenantId, batch.id);
      if (!current || current.status !== "in_progress" || now() >= current.expiresAt * 1000) {
        // Lines already run before a crash still count.
        stopped = true;
        break;
      }
      const start = await deps.store.startLine(batch.tenantId, batch.id, line.line, now());
      if (start.result) {
        results[i] = start.result;
        continue;
      }
      const requestId = lineRequestId(batch.id, line.customId);
      const run = () =>
        endpoint
          ? endpoint.run(deps.inference, { requestId, receivedAt: start.startedAt, principal, body: line.body })
          : Promise.resolve({ statusCode: 400, body: { error: { message: `endpoint ${batch.endpoint} is not served` } } });
      const answer = await (deps.gate ? deps.gate.run(batch.model ?? "", run) : run());
      const ok = answer.statusCode >= 200 && answer.statusCode < 300;
      const result: LineResult = {
        line: line.line,
        customId: line.customId,
        ok,
        output: JSON.stringify({
          id: `batch_req_${requestId.slice("batch_".length)}`,
          custom_id: line.customId,
          response: { status_code: answer.statusCode, request_id: requestId, body: answer.body },
          error: ok ? null : { code: errorCode(answer.body), message: errorMessage(answer.body) },
        }),
      };
      await deps.store.putLineResult(batch.tenantId, batch.id, result);
      results[i] = result;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.lineConcurrency) }, worker));
  // Results of lines this run did not reach but an earlier run finished are counted too.
  if (stopped) {
    const done = new Map((await deps.store.lineResults(batch.tenantId, batch.id)).map((r) => [r.line, r]));
    lines.forEach((l, i) => {
      results[i] ??= done.get(l.line);
    });
  }
  return results;
}

const errorOf = (body: unknown) => (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
const errorCode = (body: unknown) => String(errorOf(body)?.code ?? "request_failed");
const errorMessage = (body: unknown) => String(errorOf(body)?.message ?? "the request failed");

/**
 * Writes the output and error files from the line results and moves the batch to its end:
 * cancelled after a cancel; expired when lines were left unrun at the window's end (each in
 * the error file); else completed. Run again, it writes the same files under the same ids.
 */
async function finalize(deps: BatchWorkerDeps, batch: BatchRecord): Promise<void> {
  const now = (deps.now ?? Date.now)();
  let b: BatchRecord | undefined = batch;
  if (b.status === "in_progress") {
    b = await deps.store.updateBatch(b.tenantId, b.id, ["in_progress"], { status: "finalizing", finalizingAt: seconds(now) });
    if (!b) b = await deps.store.getBatch(batch.tenantId, batch.id);
  }
  if (!b || !(b.status === "finalizing" || b.status === "cancelling" || b.status === "cancelled")) return;
  const results = await deps.store.lineResults(b.tenantId, b.id);
  const ran = new Set(results.map((r) => r.line));
  const output = results.filter((r) => r.ok).map((r) => r.output);
  const errors = results.filter((r) => !r.ok).map((r) => r.output);
  let unrun = 0;
  if (b.status === "finalizing") {
    for (let c = 0; c < b.chunks; c++) {
      const bytes = await deps.objects.get(chunkKey(b.tenantId, b.id, c));
      for (const text of bytes ? Buffer.from(bytes).toString("utf8").split("\n") : []) {
        if (text === "") continue;
        const line = JSON.parse(text) as BatchLine;
        if (ran.has(line.line)) continue;
        unrun += 1;
        errors.push(
          JSON.stringify({
            id: `batch_req_${lineRequestId(b.id, line.customId).slice("batch_".length)}`,
            custom_id: line.customId,
            response: null,
            error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." },
          }),
        );
      }
    }
  }
  const outputFileId = output.length > 0 ? await writeFile(deps, b, "output", output, now) : undefined;
  const errorFileId = errors.length > 0 ? await writeFile(deps, b, "error", errors, now) : undefined;
  const to: BatchStatus = b.status === "finalizing" ? (unrun > 0 ? "expired" : "completed") : "cancelled";
  const stamp = to === "completed" ? { completedAt: seconds(now) } : to === "expired" ? { expiredAt: seconds(now) } : {};
  await deps.store.updateBatch(b.tenantId, b.id, [b.status], {
    status: to,
    ...(b.status === "cancelled" ? {} : to === "cancelled" ? { cancelledAt: seconds(now) } : stamp),
    counts: { total: b.counts.total, completed: output.length, failed: results.length - output.length + unrun },
    ...(outputFileId ? { outputFileId } : {}),
    ...(errorFileId ? { errorFileId } : {}),
  });
}

async function writeFile(deps: BatchWorkerDeps, b: BatchRecord, kind: "output" | "error", lines: string[], now: number) {
  const id = batchFileId(b.id, kind);
  const body = Buffer.from(`${lines.join("\n")}\n`, "utf8");
  await deps.objects.put(fileKey(b.tenantId, id), body, "application/jsonl");
  await deps.store.putFile({
    id,
    tenantId: b.tenantId,
    bytes: body.byteLength,
    createdAt: seconds(now),
    filename: `${b.id}_${kind}.jsonl`,
    purpose: "batch_output",
    expiresAt: seconds(now) + BATCH_RETENTION_DAYS * 86_400,
  });
  return id;
}

export { isTerminal };
