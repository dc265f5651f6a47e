import { describe, expect, it } from "@jest/globals";
import type { UsageRecord } from "../../functions/core/usage";
import { parseCsv, parseJsonLines } from "../support/usage-csv-parse";
import { cli } from "./cli-run";
import { admin, call, freshUsage, inferBody, newTenant } from "./helpers";

/** Every record of the range through the API, following cursors; counts the pages. */
async function exportViaApi(
  path: string,
  key: string | undefined,
  query: Record<string, string>,
): Promise<{ records: UsageRecord[]; pages: number }> {
  const records: UsageRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const q = new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) });
    const res = key
      ? await call(`${path}?${q}`, { key })
      : await admin().request<{ records: UsageRecord[]; cursor?: string }>("GET", path, undefined, Object.fromEntries(q));
    expect({ status: res.status, text: res.text }).toMatchObject({ status: 200 });
    const body = res.body as { records: UsageRecord[]; cursor?: string };
    records.push(...body.records);
    cursor = body.cursor;
    pages++;
  } while (cursor !== undefined);
  return { records, pages };
}

describe("usage by key and version, and the record export", () => {
  it("a fresh tenant's N inferences: show by key/version equals N; API and CLI exports hold exactly those N request ids", async () => {
    const t = await newTenant(["iris"], "uexp");
    const second = await admin().request<{ apiKey: string; keyId: string }>("POST", `/admin/tenants/${t.tenantId}/keys`, {
      name: "second",
    });
    expect(second.status).toBe(201);
    const from = new Date(Date.now() - 60_000).toISOString();
    const perKey = { [t.keyId]: 7, [second.body.keyId]: 5 };
    const N = 12;
    const keyOf = (i: number) => (i < 7 ? t.apiKey : second.body.apiKey);
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => call("/v2/models/iris/infer", { key: keyOf(i), body: inferBody() })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(N).fill(200));
    const ids = answers.map((a) => a.headers.get("x-request-id")).sort();
    expect(new Set(ids).size).toBe(N);
    const to = new Date(Date.now() + 60_000).toISOString();
    const range = { from, to };

    // Summaries: per key (own route), per version (admin route), hourly: always N billable requests.
    await freshUsage(t.tenantId);
    const byKey = await call(`/v1/usage?${new URLSearchParams({ ...range, group: "key" })}`, { key: t.apiKey });
    expect(byKey.status).toBe(200);
    expect(byKey.body).toMatchObject({ tenantId: t.tenantId, granularity: "day", group: "key", totals: { requests: N, refused: 0 } });
    const keyTotals: Record<string, number> = {};
    for (const r of byKey.body.rows) keyTotals[r.keyId] = (keyTotals[r.keyId] ?? 0) + r.requests;
    expect(keyTotals).toEqual(perKey);
    const byVersion = await admin().request<{ rows: Array<{ model: string; version: number; requests: number }> }>(
      "GET",
      `/admin/tenants/${t.tenantId}/usage`,
      undefined,
      { ...range, by: "hour" },
    );
    expect(byVersion.body).toMatchObject({ group: "version", granularity: "hour", totals: { requests: N } });
    expect(byVersion.body.rows.every((r) => r.model === "iris" && r.version === 1)).toBe(true);
    expect(byVersion.body.rows.reduce((s, r) => s + r.requests, 0)).toBe(N);

    // Export through both routes, in pages smaller than N.
    const own = await exportViaApi("/v1/usage/records", t.apiKey, { ...range, limit: "5" });
    expect(own.pages).toBeGreaterThanOrEqual(3);
    expect(own.records.map((r) => r.requestId).sort()).toEqual(ids);
    expect(own.records.every((r) => r.tenantId === t.tenantId && r.model === "iris" && r.status === 200)).toBe(true);
    const byAdmin = await exportViaApi(`/admin/tenants/${t.tenantId}/usage/records`, undefined, { ...range, limit: "4" });
    expect(byAdmin.records).toEqual(own.records);

    // The CLI streams the same records; its CSV parses back to its JSON lines.
    const jsonl = await cli([
      "usage",
      "export",
      "--tenant",
      t.tenantId,
      "--from",
      from,
      "--to",
      to,
      "--format",
      "jsonl",
      "--page-size",
      "5",
    ]);
    expect(jsonl).toMatchObject({ code: 0 });
    const fromJsonl = parseJsonLines(jsonl.stdout);
    expect(fromJsonl.map((r) => r.requestId).sort()).toEqual(ids);
    const csv = await cli(["usage", "export", "--from", from, "--to", to, "--format", "csv", "--page-size", "3"], {
      MODELGATE_API_KEY: t.apiKey,
    });
    expect(csv).toMatchObject({ code: 0 });
    expect(csv.stdout.startsWith("requestId,time,tenantId,")).toBe(true);
    expect(parseCsv(csv.stdout)).toStrictEqual(fromJsonl);
    expect(fromJsonl).toEqual(own.records);

    // The CLI summary per key, as a table and as the API's JSON.
    const shown = await cli(["usage", "show", "--tenant", t.tenantId, "--from", from, "--to", to, "--group", "key"]);
    expect(shown).toMatchObject({ code: 0 });
    expect(shown.stdout).toMatch(new RegExp(`requests:\\s+${N}\\b`));
    expect(shown.stdout).toMatch(new RegExp(`${t.keyId}\\s+7\\s`));
    const shownJson = JSON.parse(
      (await cli(["--json", "usage", "show", "--from", from, "--to", to], { MODELGATE_API_KEY: t.apiKey })).stdout,
    );
    expect(shownJson).toMatchObject({
      tenantId: t.tenantId,
      group: "version",
      totals: { requests: N },
      rows: [{ model: "iris", version: 1, requests: N }],
    });
    // Four CLI runs, each loading TypeScript through tsx: slow on a busy machine.
  }, 300_000);

  it("rejects bad parameters with 400s naming the parameter", async () => {
    const t = await newTenant(["iris"], "uexp-bad");
    const cases: Array<[string, string]> = [
      ["/v1/usage?group=tenant", "group"],
      ["/v1/usage?by=week", "by"],
      ["/v1/usage/records?limit=0", "limit"],
      ["/v1/usage/records?include=everything", "include"],
      ["/v1/usage/records?cursor=nope", "cursor"],
      ["/v1/usage/records?from=2026-13-01", "from"],
    ];
    for (const [path, param] of cases) {
      const res = await call(path, { key: t.apiKey });
      expect(`${path} → ${res.status}`).toBe(`${path} → 400`);
      expect(res.body.error.message).toContain(`'${param}'`);
    }
    const cli400 = await cli(["usage", "export", "--tenant", t.tenantId, "--from", "2026-11-01", "--to", "2026-11-02", "--format", "xml"]);
    expect(cli400.code).toBe(2);
    expect(cli400.stderr).toMatch(/--format takes csv or jsonl/);
    const missing = await admin().request("GET", "/admin/tenants/never-existed-x/usage/records");
    expect(missing.status).toBe(404);
  });
});
