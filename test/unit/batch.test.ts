import { describe, expect, it } from "@jest/globals";
import { BATCH_ENDPOINTS } from "../../functions/core/batch/endpoints";
import { batchFileId, isBatchId, isFileId, lineRequestId, newBatchId, newFileId } from "../../functions/core/batch/ids";
import { chunkCount, validateBatchInput } from "../../functions/core/batch/jsonl";
import { BATCH_STATUSES, batchObject, canMove, isCancellable, isTerminal } from "../../functions/core/batch/state";
import { batchPriceOf } from "../../functions/core/money/batch-price";
import { costOf } from "../../functions/core/money/cost";
import { buildUsageRecord, countersOf } from "../../functions/core/usage";

const CHAT = "/v1/chat/completions";
const checkBody = (BATCH_ENDPOINTS[CHAT] ?? { checkBody: () => undefined }).checkBody;
const line = (customId: string, body: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: customId,
    method: "POST",
    url: CHAT,
    body: { model: "tinylm", messages: [{ role: "user", content: "hi" }], ...body },
  });

describe("batch input validation", () => {
  it("takes JSON lines of one model, skipping blank lines and CRLF endings", () => {
    const v = validateBatchInput(`${line("a")}\r\n\n${line("b")}\n`, { endpoint: CHAT, checkBody });
    expect(v).toMatchObject({
      ok: true,
      model: "tinylm",
      lines: [
        { line: 1, customId: "a" },
        { line: 3, customId: "b" },
      ],
    });
  });

  it("reports every bad line with its number and reason", () => {
    const text = [
      line("a"),
      "[1,2]",
      "{oops",
      JSON.stringify({ custom_id: "", method: "POST", url: CHAT, body: {} }),
      line("a"),
      JSON.stringify({ custom_id: "m", method: "GET", url: CHAT, body: {} }),
      line("s", { stream: true }),
      line("t", { temperature: 9 }),
      line("o", { model: "other" }),
    ].join("\n");
    const v = validateBatchInput(text, { endpoint: CHAT, checkBody });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.map((e) => [e.line, e.code])).toEqual([
      [2, "invalid_request"],
      [3, "invalid_json_line"],
      [4, "invalid_custom_id"],
      [5, "duplicate_custom_id"],
      [6, "invalid_method"],
      [7, "invalid_body"],
      [8, "invalid_body"],
      [9, "mismatched_model"],
    ]);
    expect(v.errors[6]?.message).toMatch(/temperature/);
  });

  it("refuses an empty file and one past the line limit", () => {
    expect(validateBatchInput("\n\n", { endpoint: CHAT, checkBody })).toMatchObject({ ok: false, errors: [{ code: "empty_file" }] });
    const three = [line("a"), line("b"), line("c")].join("\n");
    expect(validateBatchInput(three, { endpoint: CHAT, checkBody, maxLines: 2 })).toMatchObject({
      ok: false,
      errors: [{ code: "too_many_requests" }],
    });
  });

  it("splits lines into chunks of 20", () => {
    expect([0, 1, 20, 21, 200].map((n) => chunkCount(n))).toEqual([0, 1, 1, 2, 10]);
  });
});

describe("batch statuses", () => {
  it("moves only along OpenAI's edges; terminal statuses go nowhere", () => {
    expect(canMove("validating", "in_progress")).toBe(true);
    expect(canMove("in_progress", "finalizing")).toBe(true);
    expect(canMove("finalizing", "completed")).toBe(true);
    expect(canMove("finalizing", "expired")).toBe(true);
    expect(canMove("cancelling", "cancelled")).toBe(true);
    expect(canMove("completed", "in_progress")).toBe(false);
    expect(canMove("in_progress", "validating")).toBe(false);
    expect(BATCH_STATUSES.filter(isTerminal)).toEqual(["failed", "completed", "expired", "cancelled"]);
    expect(BATCH_STATUSES.filter(isCancellable)).toEqual(["validating", "in_progress"]);
  });

  it("is OpenAI's batch object, nulls where nothing happened yet", () => {
    const o = batchObject({
      id: "batch_x",
      tenantId: "acme",
      principal: {},
      endpoint: CHAT,
      inputFileId: "file-x",
      completionWindow: "24h",
      status: "validating",
      createdAt: 100,
      expiresAt: 100 + 86_400,
      counts: { total: 0, completed: 0, failed: 0 },
      chunks: 0,
      chunksDone: 0,
    });
    expect(o).toMatchObject({
      object: "batch",
      errors: null,
      output_file_id: null,
      in_progress_at: null,
      expires_at: 86_500,
      metadata: null,
    });
    expect(o).not.toHaveProperty("tenantId");
    expect(o).not.toHaveProperty("principal");
  });
});

describe("batch ids", () => {
  it("are OpenAI-shaped; batch ids sort by creation time", () => {
    expect(isFileId(newFileId())).toBe(true);
    expect(isBatchId(newBatchId(Date.now()))).toBe(true);
    expect(newBatchId(1_000) < newBatchId(2_000)).toBe(true);
    expect(isFileId(batchFileId("batch_x", "output"))).toBe(true);
    expect(batchFileId("batch_x", "output")).toBe(batchFileId("batch_x", "output"));
    expect(batchFileId("batch_x", "output")).not.toBe(batchFileId("batch_x", "error"));
  });

  it("gives a line one request id per (batch, custom_id), whatever its characters", () => {
    expect(lineRequestId("batch_a", "x/y z")).toBe(lineRequestId("batch_a", "x/y z"));
    expect(lineRequestId("batch_a", "x")).not.toBe(lineRequestId("batch_b", "x"));
    expect(lineRequestId("batch_a", "x/y z")).toMatch(/^batch_a\.[0-9A-Za-z]{16}$/);
  });
});

describe("the batch price", () => {
  const price = {
    model: "m",
    currency: "USD",
    effectiveFrom: "2026-01-01T00:00:00Z",
    components: { perRequest: 3n, perMillionOutput: 610_000_000n },
  };

  it("is half of each component, rounded half-up to a nano-unit once", () => {
    expect(batchPriceOf(price).components).toEqual({ perRequest: 2n, perMillionOutput: 305_000_000n });
  });

  it("prices a batch record and counts it as a billed request", () => {
    const input = { requestId: "r", receivedAt: Date.parse("2026-02-01T00:00:00Z"), finishedAt: Date.parse("2026-02-01T00:00:01Z") };
    const common = {
      ...input,
      tenantId: "t",
      keyId: "k",
      model: "m",
      version: 1,
      status: 200,
      bytesIn: 1,
      bytesOut: 1,
      tokens: { input: 0, output: 1000 },
      prices: [price],
    };
    const batch = buildUsageRecord({ ...common, kind: "batch" });
    const billable = buildUsageRecord(common);
    expect(batch).toMatchObject({ kind: "batch", cost: "0.000305002" });
    expect(billable.cost).toBe("0.000610003");
    expect(costOf(batchPriceOf(price), { requests: 1, inputTokens: 0, outputTokens: 1000 }).total).toBe(305_002n);
    expect(countersOf(batch)).toMatchObject({ requests: 1, outputTokens: 1000, costNano: 305_002 });
  });
});
