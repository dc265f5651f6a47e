/**
 * The batch input file, checked before anything runs: JSON lines of
 * `{"custom_id", "method": "POST", "url", "body"}`, one model for the whole file (as OpenAI
 * requires), each custom id once. Every problem is reported with its line number, so a client
 * fixes the file in one go; a file with any problem runs nothing.
 */

/** One request of a batch, as the worker runs it. */
export interface BatchLine {
  /** 1-based line number in the input file. */
  readonly line: number;
  readonly customId: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** OpenAI's `errors.data[]` entry. */
export interface BatchLineError {
  readonly code: string;
  readonly message: string;
  readonly param?: string;
  readonly line?: number;
}

export interface ValidationOptions {
  /** The batch's `endpoint`: every line's `url` must name it. */
  readonly endpoint: string;
  /** The endpoint's own check of a body: a problem, or undefined when the body is fine. */
  readonly checkBody: (body: unknown) => string | undefined;
  /** @default MAX_BATCH_LINES */
  readonly maxLines?: number;
  /** Errors reported at most (a broken file would otherwise make an enormous batch object). @default 100 */
  readonly maxErrors?: number;
}

export type Validation =
  | { readonly ok: true; readonly model: string; readonly lines: readonly BatchLine[] }
  | { readonly ok: false; readonly errors: readonly BatchLineError[] };

/** OpenAI's limit of requests per batch. */
export const MAX_BATCH_LINES = 50_000;
export const MAX_CUSTOM_ID_LENGTH = 512;

export function validateBatchInput(text: string, o: ValidationOptions): Validation {
  const maxLines = o.maxLines ?? MAX_BATCH_LINES;
  const maxErrors = o.maxErrors ?? 100;
  const errors: BatchLineError[] = [];
  const lines: BatchLine[] = [];
  const seen = new Set<string>();
  let model: string | undefined;
  const fail = (line: number, code: string, message: string, param?: string) => {
    if (errors.length < maxErrors) errors.push({ code, message, line, ...(param ? { param } : {}) });
  };
  const rows = text.split("\n");
  rows.forEach((raw, i) => {
    const n = i + 1;
    const row = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    // Blank lines (a trailing newline, say) are not requests.
    if (row.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(row);
    } catch {
      fail(n, "invalid_json_line", `line ${n} is not valid JSON`);
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      fail(n, "invalid_request", `line ${n} is not a JSON object`);
      return;
    }
    const r = parsed as Record<string, unknown>;
    const customId = r.custom_id;
    if (typeof customId !== "string" || customId.length === 0 || customId.length > MAX_CUSTOM_ID_LENGTH) {
      fail(n, "invalid_custom_id", `custom_id must be a string of 1 to ${MAX_CUSTOM_ID_LENGTH} characters`, "custom_id");
      return;
    }
    if (seen.has(customId)) {
      fail(n, "duplicate_custom_id", `custom_id '${customId}' is used by an earlier line`, "custom_id");
      return;
    }
    seen.add(customId);
    if (r.method !== "POST") {
      fail(n, "invalid_method", `method must be POST, got ${JSON.stringify(r.method)}`, "method");
      return;
    }
    if (r.url !== o.endpoint) {
      fail(n, "invalid_url", `url must be the batch's endpoint ${o.endpoint}, got ${JSON.stringify(r.url)}`, "url");
      return;
    }
    const body = r.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      fail(n, "invalid_body", "body must be a JSON object", "body");
      return;
    }
    const b = body as Record<string, unknown>;
    if (b.stream === true) {
      fail(n, "invalid_body", "body.stream is not supported in a batch", "body.stream");
      return;
    }
    const problem = o.checkBody(b);
    if (problem !== undefined) {
      fail(n, "invalid_body", `body: ${problem}`, "body");
      return;
    }
    if (typeof b.model !== "string") {
      fail(n, "invalid_body", "body.model must be a string", "body.model");
      return;
    }
    if (model === undefined) model = b.model;
    else if (b.model !== model) {
      fail(
        n,
        "mismatched_model",
        `every line must name the same model: line ${n} names '${b.model}', earlier lines '${model}'`,
        "body.model",
      );
      return;
    }
    lines.push({ line: n, customId, body: b });
  });
  if (errors.length === 0 && lines.length > maxLines) {
    errors.push({ code: "too_many_requests", message: `the file has ${lines.length} requests; a batch takes at most ${maxLines}` });
  }
  if (errors.length === 0 && (lines.length === 0 || model === undefined)) {
    errors.push({ code: "empty_file", message: "the file has no requests" });
  }
  if (errors.length > 0 || model === undefined) return { ok: false, errors };
  return { ok: true, model, lines };
}

/** Lines per unit of work (one queue message): small enough that a redelivery re-runs little. */
export const LINES_PER_CHUNK = 20;

export function chunkCount(lines: number, perChunk = LINES_PER_CHUNK): number {
  return Math.ceil(lines / perChunk);
}
