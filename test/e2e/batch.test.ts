import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import OpenAI, { NotFoundError, toFile } from "openai";
import { formatAmount } from "../../functions/core/money/amount";
import type { UsageRecord } from "../../functions/core/usage";
import { cli } from "./cli-run";
import { admin, e2ePlatform, eventually, newTenant } from "./helpers";

/** The openai SDK against the local platform, unchanged. */
const client = (apiKey: string) => new OpenAI({ baseURL: `${e2ePlatform().url}/v1`, apiKey, maxRetries: 0 });

const PROMPTS = ["Call me Ishmael", "The whale", "Once upon a time", "The sea was", "Ahab said", "It was a dark night"];
const request = (content: string) => ({ model: "tinylm", messages: [{ role: "user" as const, content }], max_tokens: 8, temperature: 0 });

function jsonl(lines: unknown[]): Buffer {
  return Buffer.from(`${lines.map((l) => JSON.stringify(l)).join("\n")}\n`, "utf8");
}

async function records(tenantId: string, from: string): Promise<UsageRecord[]> {
  const res = await admin().request<{ records: UsageRecord[] }>("GET", `/admin/tenants/${tenantId}/usage/records`, undefined, {
    from,
    to: new Date(Date.now() + 60_000).toISOString(),
    limit: "1000",
  });
  expect({ status: res.status, text: res.text }).toMatchObject({ status: 200 });
  return res.body.records;
}

async function finished(openai: OpenAI, id: string, timeoutMs = 60_000) {
  return eventually(
    () => openai.batches.retrieve(id),
    (b) => ["completed", "failed", "expired", "cancelled"].includes(b.status),
    timeoutMs,
  );
}

describe("the Batch API (openai SDK)", () => {
  it("runs a batch: each output line equals the same request sent interactively, one batch record per line at the batch price", async () => {
    const t = await newTenant(["tinylm"], "batch");
    // A contract price for this tenant alone: the batch price is half of it, component by component.
    const start = new Date(Math.ceil((Date.now() + 2_000) / 1000) * 1000).toISOString();
    const priced = await admin().request("POST", "/admin/models/tinylm/prices", {
      tenant: t.tenantId,
      perMillionInput: "0.15",
      perMillionOutput: "0.61",
      from: start,
    });
    expect({ status: priced.status, text: priced.text }).toMatchObject({ status: 201 });
    await new Promise((r) => setTimeout(r, Date.parse(start) - Date.now() + 700));
    const from = new Date(Date.now() - 1000).toISOString();

    const openai = client(t.apiKey);
    const input = jsonl(PROMPTS.map((p, i) => ({ custom_id: `req-${i}`, method: "POST", url: "/v1/chat/completions", body: request(p) })));
    const file = await openai.files.create({ file: await toFile(input, "input.jsonl"), purpose: "batch" });
    expect(file).toMatchObject({ object: "file", purpose: "batch", bytes: input.byteLength, filename: "input.jsonl" });
    expect(file.id).toMatch(/^file-/);

    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { job: "e2e" },
    });
    expect(created).toMatchObject({ object: "batch", status: "validating", input_file_id: file.id, metadata: { job: "e2e" } });
    const done = await finished(openai, created.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: PROMPTS.length, completed: PROMPTS.length, failed: 0 });
    expect(done.error_file_id).toBeNull();
    expect(done.in_progress_at).not.toBeNull();
    expect(done.completed_at).not.toBeNull();

    const listed = await openai.batches.list({ limit: 10 });
    expect(listed.data.map((b) => b.id)).toContain(created.id);

    const content = await (await openai.files.content(done.output_file_id as string)).text();
    const lines = content
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(PROMPTS.length);
    for (const [i, prompt] of PROMPTS.entries()) {
      const line = lines.find((l) => l.custom_id === `req-${i}`);
      expect(line).toMatchObject({ error: null, response: { status_code: 200 } });
      const interactive = await openai.chat.completions.create(request(prompt));
      expect(line.response.body.choices).toEqual(JSON.parse(JSON.stringify(interactive.choices)));
      expect(line.response.body.usage).toEqual(JSON.parse(JSON.stringify(interactive.usage)));
      expect(line.response.body.model).toBe("tinylm");
    }

    const batchRecords = (await records(t.tenantId, from)).filter((r) => r.kind === "batch");
    expect(batchRecords).toHaveLength(PROMPTS.length);
    for (const r of batchRecords) {
      expect(r.requestId.startsWith(`${created.id}.`)).toBe(true);
      // Half of 0.15 and 0.61 per million tokens: 75 and 305 nano-units per token, exactly.
      const nano = BigInt(r.tokens?.input ?? 0) * 75n + BigInt(r.tokens?.output ?? 0) * 305n;
      expect(r.cost).toBe(formatAmount(nano));
    }
  }, 120_000);

  it("runs an embeddings batch: each line's vector equals the interactive one, a batch record per line", async () => {
    const t = await newTenant(["tinyembed", "tinylm"], "batch-embed");
    const from = new Date(Date.now() - 1000).toISOString();
    const openai = client(t.apiKey);
    const inputs = ["The whale surfaced", "Call me Ishmael", "The captain walked the deck"];
    const body = (input: string) => ({ model: "tinyembed", input, dimensions: 16 });
    const file = await openai.files.create({
      file: await toFile(
        jsonl(inputs.map((input, i) => ({ custom_id: `e-${i}`, method: "POST", url: "/v1/embeddings", body: body(input) }))),
        "e.jsonl",
      ),
      purpose: "batch",
    });
    const created = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/embeddings", completion_window: "24h" });
    const done = await finished(openai, created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 3, failed: 0 } });
    const lines = (await (await openai.files.content(done.output_file_id as string)).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const [i, input] of inputs.entries()) {
      const line = lines.find((l) => l.custom_id === `e-${i}`);
      const interactive = await openai.embeddings.create(body(input));
      expect(line.response.status_code).toBe(200);
      expect(line.response.body.data[0].embedding).toEqual(interactive.data[0]?.embedding);
      expect(line.response.body.usage).toEqual(JSON.parse(JSON.stringify(interactive.usage)));
    }
    // A chat line on an embedding model is refused in the error file, at no cost.
    const wrong = await openai.files.create({
      file: await toFile(
        jsonl([
          {
            custom_id: "c",
            method: "POST",
            url: "/v1/chat/completions",
            body: { model: "tinyembed", messages: [{ role: "user", content: "hi" }] },
          },
        ]),
        "w.jsonl",
      ),
      purpose: "batch",
    });
    const refused = await finished(
      openai,
      (await openai.batches.create({ input_file_id: wrong.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id,
    );
    expect(refused.request_counts).toEqual({ total: 1, completed: 0, failed: 1 });
    const batchRecords = (await records(t.tenantId, from)).filter((r) => r.kind === "batch" && r.status === 200);
    expect(batchRecords).toHaveLength(inputs.length);
  }, 120_000);

  it("a file too large for a function's response downloads through a redirect to a presigned GET, which the SDK follows", async () => {
    const t = await newTenant(["tinylm"], "batch-big");
    const openai = client(t.apiKey);
    // Past MAX_DIRECT_CONTENT_BYTES (4 MiB): uploaded the large-file way, a presigned PUT.
    const text = jsonl(
      Array.from({ length: 12_000 }, (_, i) => ({
        custom_id: `big-${i}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: request("x".repeat(300)),
      })),
    );
    expect(text.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    const api = (path: string, body: unknown) =>
      fetch(`${e2ePlatform().url}/v1${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const upload = (await (await api("/batch-uploads", { filename: "big.jsonl", bytes: text.byteLength })).json()) as {
      file_id: string;
      upload_url: string;
    };
    expect((await fetch(upload.upload_url, { method: "PUT", body: text })).status).toBe(200);
    expect((await api(`/batch-uploads/${upload.file_id}/complete`, { filename: "big.jsonl" })).status).toBe(200);

    const raw = await fetch(`${e2ePlatform().url}/v1/files/${upload.file_id}/content`, {
      headers: { authorization: `Bearer ${t.apiKey}` },
      redirect: "manual",
    });
    expect(raw.status).toBe(302);
    const location = new URL(raw.headers.get("location") ?? "");
    expect(location.origin).not.toBe(new URL(e2ePlatform().url).origin);
    expect(location.searchParams.get("X-Amz-Signature")).toBeTruthy();
    const downloaded = Buffer.from(await (await openai.files.content(upload.file_id)).arrayBuffer());
    expect(downloaded.equals(text)).toBe(true);
  }, 120_000);

  it("fails a malformed input file with the line numbers and reasons, running nothing", async () => {
    const t = await newTenant(["tinylm"], "batchbad");
    const openai = client(t.apiKey);
    const good = { custom_id: "a", method: "POST", url: "/v1/chat/completions", body: request("hi") };
    const text = [
      JSON.stringify(good),
      "{not json",
      JSON.stringify({ ...good, custom_id: "a" }),
      JSON.stringify({ ...good, custom_id: "c", url: "/v1/completions" }),
      JSON.stringify({ ...good, custom_id: "d", body: { ...good.body, model: "other" } }),
    ].join("\n");
    const file = await openai.files.create({ file: await toFile(Buffer.from(text), "bad.jsonl"), purpose: "batch" });
    const b = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const done = await finished(openai, b.id);
    expect(done.status).toBe("failed");
    expect(done.errors?.data?.map((e) => [e.line, e.code])).toEqual([
      [2, "invalid_json_line"],
      [3, "duplicate_custom_id"],
      [4, "invalid_url"],
      [5, "mismatched_model"],
    ]);
    expect(done.output_file_id).toBeNull();
  }, 60_000);

  it("keeps files and batches private: another tenant's ids are 404, and bad requests are 4xx", async () => {
    const owner = await newTenant(["tinylm"], "batchown");
    const other = await newTenant(["tinylm"], "batchoth");
    const mine = client(owner.apiKey);
    const theirs = client(other.apiKey);
    const input = jsonl([{ custom_id: "x", method: "POST", url: "/v1/chat/completions", body: request("The whale") }]);
    const file = await mine.files.create({ file: await toFile(input, "one.jsonl"), purpose: "batch" });
    const b = await mine.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });

    await expect(theirs.files.retrieve(file.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(theirs.files.content(file.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(theirs.files.delete(file.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(theirs.batches.retrieve(b.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(theirs.batches.cancel(b.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      theirs.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect((await theirs.batches.list()).data).toEqual([]);
    await expect(
      mine.batches.create({ input_file_id: file.id, endpoint: "/v1/images", completion_window: "24h" } as never),
    ).rejects.toMatchObject({ status: 400 });

    expect((await finished(mine, b.id)).status).toBe("completed");
    expect(await mine.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });
    await expect(mine.files.retrieve(file.id)).rejects.toBeInstanceOf(NotFoundError);
  }, 60_000);

  it("modelgate batches submit uploads through a presigned URL and runs the batch", async () => {
    const t = await newTenant(["tinylm"], "batchcli");
    const file = join(mkdtempSync(join(tmpdir(), "mg-batch-cli-")), "lines.jsonl");
    writeFileSync(
      file,
      jsonl(
        ["x", "y"].map((c) => ({
          custom_id: c,
          method: "POST",
          url: "/v1/completions",
          body: { model: "tinylm", prompt: `The ${c}`, max_tokens: 4 },
        })),
      ),
    );
    const run = await cli([
      "--json",
      "batches",
      "submit",
      file,
      "--url",
      "/v1/completions",
      "--metadata",
      "job=cli",
      "--wait",
      "--key",
      t.apiKey,
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    const b = JSON.parse(run.stdout);
    expect(b).toMatchObject({
      status: "completed",
      endpoint: "/v1/completions",
      request_counts: { total: 2, completed: 2, failed: 0 },
      metadata: { job: "cli" },
    });
    const content = await (await client(t.apiKey).files.content(b.output_file_id)).text();
    expect(
      content
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).custom_id)
        .sort(),
    ).toEqual(["x", "y"]);
    const status = await cli(["batches", "status", b.id, "--key", t.apiKey]);
    expect(status.stdout).toMatch(/status:\s+completed/);
  }, 60_000);
});
