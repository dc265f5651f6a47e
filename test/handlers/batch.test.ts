import { beforeEach, describe, expect, it } from "@jest/globals";
import { lineRequestId } from "../../functions/core/batch/ids";
import { runBatchStep } from "../../functions/core/batch/worker";
import { ModelFailedError } from "../../functions/core/errors";
import { principal, seedModels, type TestApp, testApp } from "./app";
import { COMPLETION_USAGE } from "./memory/model";

let app: TestApp;
const caller = principal({ models: ["tinylm"] });

const line = (customId: string, extra: Record<string, unknown> = {}) => ({
  custom_id: customId,
  method: "POST",
  url: "/v1/chat/completions",
  body: { model: "tinylm", messages: [{ role: "user", content: `story ${customId}` }], temperature: 0, ...extra },
});
const jsonl = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join("\n");

function multipart(text: string, purpose = "batch") {
  const body = [
    "--xx",
    'Content-Disposition: form-data; name="purpose"',
    "",
    purpose,
    "--xx",
    'Content-Disposition: form-data; name="file"; filename="in.jsonl"',
    "Content-Type: application/jsonl",
    "",
    text,
    "--xx--",
    "",
  ].join("\r\n");
  return { body, headers: { "content-type": "multipart/form-data; boundary=xx" } };
}

async function upload(text: string, as = caller): Promise<string> {
  const res = await app.request("POST", "/v1/files", { as, ...multipart(text) });
  expect({ status: res.status, text: res.text }).toMatchObject({ status: 200 });
  return res.json().id as string;
}

async function createBatch(fileId: string, as = caller): Promise<string> {
  const res = await app.request("POST", "/v1/batches", {
    as,
    json: { input_file_id: fileId, endpoint: "/v1/chat/completions", completion_window: "24h" },
  });
  expect({ status: res.status, text: res.text }).toMatchObject({ status: 200 });
  return res.json().id as string;
}

const batchOf = async (id: string, as = caller) => (await app.request("GET", `/v1/batches/${id}`, { as })).json();
const contentOf = async (fileId: string) =>
  (await app.request("GET", `/v1/files/${fileId}/content`, { as: caller })).text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

beforeEach(async () => {
  app = testApp();
  seedModels(app);
  // A list price for tinylm, in force long before the app's clock.
  await app.registry.addPrice({
    model: "tinylm",
    currency: "USD",
    effectiveFrom: "2026-01-01T00:00:00Z",
    components: { perRequest: 1_000_001n, perMillionInput: 150_000_000n, perMillionOutput: 610_000_000n },
  });
});

describe("the Batch API through the factories", () => {
  it("runs every line through the inference path: output lines in order, one batch record per line at half the price", async () => {
    const id = await createBatch(await upload(jsonl(["a", "b", "c"].map((c) => line(c)))));
    expect((await batchOf(id)).status).toBe("validating");
    await app.batch.work();
    const b = await batchOf(id);
    expect(b).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 3, failed: 0 }, error_file_id: null });
    const out = await contentOf(b.output_file_id);
    expect(out.map((l) => l.custom_id)).toEqual(["a", "b", "c"]);
    expect(out[0]).toMatchObject({
      error: null,
      response: { status_code: 200, request_id: lineRequestId(id, "a"), body: { model: "tinylm", usage: COMPLETION_USAGE } },
    });
    const records = [...app.usage.stored.values()];
    expect(records.map((r) => [r.requestId, r.kind])).toEqual(["a", "b", "c"].map((c) => [lineRequestId(id, c), "batch"]));
    // Half of each component, rounded half-up once: 500_001 (1_000_001 / 2) + 5 × 75 + 2 × 305 nano-units.
    const { input, output } = { input: COMPLETION_USAGE.prompt_tokens, output: COMPLETION_USAGE.completion_tokens };
    expect(records[0]?.cost).toBe(`0.${String(500_001 + input * 75 + output * 305).padStart(9, "0")}`);
  });

  it("a line refused by a limit goes to the error file and costs nothing; the rest complete", async () => {
    const limited = principal({ models: ["tinylm"], limits: { monthlyRequests: 2 } });
    const id = await createBatch(await upload(jsonl(["a", "b", "c", "d"].map((c) => line(c))), limited), limited);
    await app.batch.work();
    const b = await batchOf(id, limited);
    expect(b).toMatchObject({ status: "completed", request_counts: { total: 4, completed: 2, failed: 2 } });
    const errors = await contentOf(b.error_file_id);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ response: { status_code: 429 }, error: { code: expect.any(String) } });
    const billed = [...app.usage.stored.values()].filter((r) => r.kind === "batch");
    expect(billed).toHaveLength(2);
    expect([...app.usage.stored.values()].filter((r) => r.kind === "refused").every((r) => r.cost === undefined)).toBe(true);
  });

  it("reserves each line against the budget at the batch price: twice as many lines fit as at the full price", async () => {
    // A line reserves ~1.007e6 nano-units at the full price and ~0.503e6 at the batch price, and costs 500_986.
    const budgeted = principal({ models: ["tinylm"], limits: { monthlyBudget: 1_200_000 } });
    const lines = ["a", "b", "c"].map((c) => line(c, { max_tokens: 2 }));
    const id = await createBatch(await upload(jsonl(lines), budgeted), budgeted);
    await app.batch.work();
    const b = await batchOf(id, budgeted);
    expect(b).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 2, failed: 1 } });
    expect((await contentOf(b.error_file_id))[0]).toMatchObject({
      response: { status_code: 429, body: { error: { code: "insufficient_quota" } } },
    });
    expect([...app.usage.stored.values()].filter((r) => r.kind === "batch").map((r) => r.cost)).toEqual(["0.000500986", "0.000500986"]);
  });

  it("a model error is an error-file line with the engine's status; the batch still completes", async () => {
    app.model.failing.set("v1", new ModelFailedError("engine broke"));
    const id = await createBatch(await upload(jsonl([line("a")])));
    await app.batch.work();
    const b = await batchOf(id);
    expect(b).toMatchObject({ status: "completed", request_counts: { total: 1, completed: 0, failed: 1 }, output_file_id: null });
    expect((await contentOf(b.error_file_id))[0]).toMatchObject({ custom_id: "a", response: { status_code: 502 } });
  });

  it("a message delivered twice (or after a crash) runs and bills nothing twice", async () => {
    const id = await createBatch(await upload(jsonl(["a", "b"].map((c) => line(c)))));
    const validate = [...app.batch.queue.messages];
    await app.batch.work();
    const calls = app.model.calls.length;
    // Every message again, as SQS redelivers after a lost acknowledgement.
    await app.batch.queue.send([
      ...validate,
      { step: "chunk", tenantId: "acme", batchId: id, chunk: 0 },
      { step: "finalize", tenantId: "acme", batchId: id },
    ]);
    await app.batch.work();
    expect(app.model.calls.length).toBe(calls);
    expect(await batchOf(id)).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 2, failed: 0 } });
    expect([...app.usage.stored.values()]).toHaveLength(2);
  });

  it("cancel stops new lines: cancelled, with the lines done billed and in the output file", async () => {
    const id = await createBatch(await upload(jsonl(Array.from({ length: 30 }, (_, i) => line(`l${i}`)))));
    // Validate and the first chunk (20 lines) only, then cancel before the second chunk runs.
    await app.batch.queue.drain(async (m) => {
      if (m.step === "chunk" && m.chunk === 1) {
        const res = await app.request("POST", `/v1/batches/${id}/cancel`, { as: caller });
        expect(res.json()).toMatchObject({ status: "cancelling" });
      }
      await runBatchStep(app.batch.worker, m);
    });
    const b = await batchOf(id);
    expect(b).toMatchObject({ status: "cancelled", request_counts: { total: 30, completed: 20, failed: 0 } });
    expect(b.cancelled_at).toEqual(expect.any(Number));
    expect(await contentOf(b.output_file_id)).toHaveLength(20);
    expect([...app.usage.stored.values()]).toHaveLength(20);
    const again = await app.request("POST", `/v1/batches/${id}/cancel`, { as: caller });
    expect(again.json()).toMatchObject({ status: "cancelled" });
  });

  it("at expiry the lines not run go to the error file as batch_expired; the batch is expired", async () => {
    const id = await createBatch(await upload(jsonl(["a", "b"].map((c) => line(c)))));
    app.clock.now += 25 * 3600_000;
    await app.batch.work();
    const b = await batchOf(id);
    expect(b).toMatchObject({ status: "expired", request_counts: { total: 2, completed: 0, failed: 2 } });
    expect((await contentOf(b.error_file_id)).map((l) => [l.custom_id, l.error.code, l.response])).toEqual([
      ["a", "batch_expired", null],
      ["b", "batch_expired", null],
    ]);
    expect(app.usage.stored.size).toBe(0);
  });

  it("answers bad requests with OpenAI's 4xx errors and other tenants' ids with 404", async () => {
    const fileId = await upload(jsonl([line("a")]));
    const other = principal({ tenantId: "globex", keyId: "GlobexKey0000001", models: ["tinylm"] });
    expect((await app.request("GET", `/v1/files/${fileId}`, { as: other })).status).toBe(404);
    expect((await app.request("GET", "/v1/files/not-an-id", { as: caller })).status).toBe(404);
    expect((await app.request("POST", "/v1/files", { as: caller, ...multipart("x", "fine-tune") })).json()).toMatchObject({
      error: { type: "invalid_request_error", message: expect.stringMatching(/purpose/) },
    });
    expect((await app.request("POST", "/v1/files", { as: caller, json: {} })).status).toBe(415);
    const bad = async (json: Record<string, unknown>) => (await app.request("POST", "/v1/batches", { as: caller, json })).status;
    expect(await bad({ input_file_id: fileId, endpoint: "/v1/images/generations", completion_window: "24h" })).toBe(400);
    expect(await bad({ input_file_id: fileId, endpoint: "/v1/chat/completions", completion_window: "48h" })).toBe(400);
    expect(await bad({ input_file_id: fileId, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { k: 1 } })).toBe(400);
    expect(await bad({ input_file_id: "file-000000000000000000000000", endpoint: "/v1/chat/completions", completion_window: "24h" })).toBe(
      404,
    );
    expect((await app.request("GET", "/v1/batches", { as: caller, query: { limit: "0" } })).status).toBe(400);
    const keyWithoutInvoke = principal({ scopes: ["usage:read"] });
    expect((await app.request("GET", "/v1/batches", { as: keyWithoutInvoke })).status).toBe(403);
  });

  it("lists the tenant's batches newest first, a page at a time", async () => {
    const fileId = await upload(jsonl([line("a")]));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await createBatch(fileId));
      app.clock.now += 1000;
    }
    const first = (await app.request("GET", "/v1/batches", { as: caller, query: { limit: "2" } })).json();
    expect(first).toMatchObject({ object: "list", has_more: true, first_id: ids[2], last_id: ids[1] });
    const next = (await app.request("GET", "/v1/batches", { as: caller, query: { limit: "2", after: first.last_id } })).json();
    expect(next).toMatchObject({ has_more: false, data: [{ id: ids[0] }] });
  });

  it("answers a file too large for a function's response with a redirect to a presigned GET, never the bytes", async () => {
    app = testApp({ maxDirectContentBytes: 200 });
    seedModels(app);
    const small = await upload(jsonl([line("a")]));
    const large = await upload(jsonl(["a", "b", "c"].map((c) => line(c))));
    const direct = await app.request("GET", `/v1/files/${small}/content`, { as: caller });
    expect(direct.status).toBe(200);
    const moved = await app.request("GET", `/v1/files/${large}/content`, { as: caller });
    expect(moved.status).toBe(302);
    expect(moved.headers.location).toMatch(new RegExp(`^https://bucket\\.example/batch/${caller.tenantId}/.*X-Amz-Expires=300`));
    expect(moved.text).toBe("");
    // Another tenant's id is still a 404, not a URL.
    expect(
      (await app.request("GET", `/v1/files/${large}/content`, { as: principal({ tenantId: "other", models: ["tinylm"] }) })).status,
    ).toBe(404);
  });
});
