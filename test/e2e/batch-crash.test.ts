import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import OpenAI, { toFile } from "openai";
import { AdminClient } from "../../cli/api-client";
import { lineRequestId } from "../../functions/core/batch/ids";
import type { UsageRecord } from "../../functions/core/usage";
import { readCredentials } from "../../infra/local/bootstrap/credentials";
import { type ChildPlatform, jvmPids, startChildPlatform } from "./child-platform";

/**
 * kill -9 of the whole local platform in the middle of a 200-line batch, on a platform of this
 * suite's own (the shared e2e platform must not be killed), then a restart on the same data:
 * the batch completes, every line in the output file once and billed (one usage record) once.
 */

async function until<T>(what: string, get: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const LINES = 200;

describe("a batch across kill -9 of the platform", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "modelgate-batch-crash-"));
  let platform: ChildPlatform | undefined;

  afterAll(async () => {
    platform?.child.kill("SIGTERM");
    if (platform) await new Promise((r) => platform?.child.once("exit", r));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("completes after a restart on the same data, each of 200 lines in the output and billed exactly once", async () => {
    const first = await startChildPlatform(dataDir, { POWERTOOLS_LOG_LEVEL: "ERROR" });
    const creds = readCredentials(dataDir);
    if (!creds) throw new Error("no credentials");
    const openai = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: creds.apiKey, maxRetries: 0 });
    const from = new Date(Date.now() - 1000).toISOString();
    const lines = Array.from({ length: LINES }, (_, i) => ({
      custom_id: `line-${i}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: "tinylm", messages: [{ role: "user", content: `Chapter ${i}: the whale` }], max_tokens: 4, temperature: 0 },
    }));
    const input = Buffer.from(lines.map((l) => JSON.stringify(l)).join("\n"));
    const file = await openai(first.url).files.create({ file: await toFile(input, "crash.jsonl"), purpose: "batch" });
    const batch = await openai(first.url).batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });

    // Mid-way: some chunks counted, the batch far from done, lines in flight.
    const midway = await until(
      "the batch to be under way",
      () => openai(first.url).batches.retrieve(batch.id),
      (b) => (b.request_counts?.completed ?? 0) >= 40,
    );
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    expect(midway.status).toBe("in_progress");
    expect(midway.request_counts?.completed).toBeLessThan(LINES);
    await until(
      "DynamoDB Local to stop",
      () => jvmPids(dataDir),
      (p) => p.length === 0,
      30_000,
    );

    platform = await startChildPlatform(dataDir, { POWERTOOLS_LOG_LEVEL: "ERROR" });
    const url = platform.url;
    const done = await until(
      "the batch to finish",
      () => openai(url).batches.retrieve(batch.id),
      (b) => ["completed", "failed", "expired", "cancelled"].includes(b.status),
      300_000,
    );
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: LINES, completed: LINES, failed: 0 });
    const output = (await (await openai(url).files.content(done.output_file_id as string)).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(output.map((l) => l.custom_id).sort()).toEqual(lines.map((l) => l.custom_id).sort());
    expect(output.every((l) => l.response.status_code === 200)).toBe(true);

    const admin = new AdminClient({ apiUrl: url, region: creds.admin.region, credentials: creds.admin });
    const records: UsageRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.request<{ records: UsageRecord[]; cursor?: string }>(
        "GET",
        `/admin/tenants/${creds.tenantId}/usage/records`,
        undefined,
        { from, to: new Date(Date.now() + 60_000).toISOString(), limit: "1000", ...(cursor ? { cursor } : {}) },
      );
      expect(page.status).toBe(200);
      records.push(...page.body.records);
      cursor = page.body.cursor;
    } while (cursor !== undefined);
    const billed = records.filter((r) => r.kind === "batch").map((r) => r.requestId);
    // Exactly once: one record per line, under the line's own request id.
    expect(billed).toHaveLength(LINES);
    expect(new Set(billed)).toEqual(new Set(lines.map((l) => lineRequestId(batch.id, l.custom_id))));
    // Work re-queued after the restart (chunks already counted included) was a no-op, never a failure.
    expect(platform.log()).not.toMatch(/batch step failed|batch message .* dropped/);
  }, 600_000);
});
