import { describe, expect, it } from "@jest/globals";
import type { UsageRecord } from "../../functions/core/usage";
import { admin, call, freshUsage, inferBody, newTenant } from "./helpers";

const TENANTS = 5;
const PER_TENANT = 200;

/** Every billable record of a tenant in the range, through the admin export (all pages). */
async function exported(tenantId: string, from: string, to: string): Promise<UsageRecord[]> {
  const records: UsageRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await admin().request<{ records: UsageRecord[]; cursor?: string }>(
      "GET",
      `/admin/tenants/${tenantId}/usage/records`,
      undefined,
      { from, to, limit: "1000", ...(cursor ? { cursor } : {}) },
    );
    expect({ status: page.status, text: page.text }).toMatchObject({ status: 200 });
    records.push(...page.body.records);
    cursor = page.body.cursor;
  } while (cursor !== undefined);
  return records;
}

describe("metering is exact under concurrency", () => {
  it("1,000 concurrent requests from 5 tenants: each tenant's usage and export equal the 2xx it received", async () => {
    const tenants = await Promise.all(Array.from({ length: TENANTS }, () => newTenant(["iris"], "exact")));
    const from = new Date(Date.now() - 1000).toISOString();
    // All at once: 1,000 requests in flight against one gateway, DynamoDB Local and model host.
    const results = await Promise.all(
      tenants.flatMap((t) =>
        Array.from({ length: PER_TENANT }, async () => {
          const r = await call("/v2/models/iris/infer", { key: t.apiKey, body: inferBody() });
          return { tenantId: t.tenantId, status: r.status, requestId: r.headers.get("x-request-id") ?? "" };
        }),
      ),
    );
    const to = new Date(Date.now() + 1000).toISOString();
    const answered = Date.now();
    // A failure may only be a server-side refusal that charged nothing; anything else is a bug.
    expect(results.filter((r) => r.status !== 200 && r.status !== 503).map((r) => r.status)).toEqual([]);

    // The aggregates catch up within 2 s of the last answer (the local host's lag), with a second
    // to spare for the reads that find it out on a loaded machine.
    await Promise.all(tenants.map((t) => freshUsage(t.tenantId)));
    const lagMs = Date.now() - answered;
    console.info(`aggregates fresh ${lagMs} ms after the last answer`);
    expect(lagMs).toBeLessThan(2000 + 1000);
    for (const t of tenants) {
      const ok = results.filter((r) => r.tenantId === t.tenantId && r.status === 200);
      const usage = await admin().request<{ totals: Record<string, number> }>("GET", `/admin/tenants/${t.tenantId}/usage`, undefined, {
        from,
        to,
      });
      expect({ tenant: t.tenantId, requests: usage.body.totals.requests }).toEqual({ tenant: t.tenantId, requests: ok.length });
      const records = await exported(t.tenantId, from, to);
      expect(records.map((r) => r.requestId).sort()).toEqual(ok.map((r) => r.requestId).sort());
      expect(new Set(records.map((r) => r.requestId)).size).toBe(records.length);
    }

    // Every request of the gateway's access log that may have reached a model has its usage record.
    const reconciled = await admin().request<{ matched: number; missing: { tenantId: string }[] }>("POST", "/admin/usage/reconcile", {
      from,
      to,
      minAgeSeconds: 0,
    });
    expect(reconciled.status).toBe(200);
    const ours = new Set(tenants.map((t) => t.tenantId));
    expect(reconciled.body.missing.filter((m) => ours.has(m.tenantId))).toEqual([]);
    // Found in the log and matched, not merely absent from it.
    expect(reconciled.body.matched).toBeGreaterThanOrEqual(results.filter((r) => r.status === 200).length);
  });
});
