import { beforeEach, describe, expect, it } from "@jest/globals";
import { parseAmount } from "../../functions/core/money/amount";
import { buildUsageRecord, type UsageRecord } from "../../functions/core/usage";
import { expectError, IRIS_INPUT, principal, seedModels, type TestApp, testApp } from "./app";
import { ADMIN_ARN, type RequestInit } from "./request";

let app: TestApp;
const admin = (method: string, path: string, init: RequestInit = {}) => app.request(method, path, { adminArn: ADMIN_ARN, ...init });
const at = (iso: string) => Date.parse(iso);
const acme = principal();
const globex = principal({ tenantId: "globex", keyId: "GlobexKey0000001" });

let n = 0;
/** A billable iris record of `tenant` received at `iso`, priced as the gateway prices it, stored. */
async function recordAt(tenant: string, iso: string, latencyMs = 250): Promise<UsageRecord> {
  const prices = (await app.registry.getModel("iris"))?.prices ?? [];
  const r = buildUsageRecord({
    requestId: `rec-${n++}`,
    receivedAt: at(iso),
    finishedAt: at(iso) + latencyMs,
    tenantId: tenant,
    keyId: "Key0000000000001",
    model: "iris",
    version: 1,
    status: 200,
    bytesIn: 1,
    bytesOut: 1,
    prices,
  });
  await app.usage.record(r);
  return r;
}

const total = (records: readonly UsageRecord[]) => records.reduce((s, r) => s + parseAmount(r.cost ?? "0"), 0n);

beforeEach(async () => {
  app = testApp();
  seedModels(app);
  app.clock.now = at("2026-09-29T00:00:00Z");
  await app.tenantWithKey("acme");
  await app.tenantWithKey("globex");
  await app.tenantWithKey("idle");
  const set = await admin("POST", "/admin/models/iris/prices", {
    json: { perRequest: "0.002", perSecond: "0.0001", from: "2026-09-30T00:00:00Z" },
  });
  expect(set.status).toBe(201);
  await admin("POST", "/admin/models/iris/prices", { json: { tenant: "globex", perRequest: "0.0015", from: "2026-09-30T00:00:00Z" } });
});

describe("invoices (admin API)", () => {
  it("previews an open month as a draft, refuses to issue it, and issues it once closed: the total is the records' sum, exactly, once", async () => {
    app.clock.now = at("2026-10-10T08:00:00Z");
    const served = await app.request("POST", "/v2/models/iris/infer", { as: acme, json: IRIS_INPUT, requestId: "served" });
    expect(served.status).toBe(200);
    const acmeRecords = [
      app.usage.stored.get("served") as UsageRecord,
      await recordAt("acme", "2026-10-01T00:00:00.000Z"),
      await recordAt("acme", "2026-10-31T23:59:59.999Z", 1),
    ];
    const globexRecords = [await recordAt("globex", "2026-10-05T10:00:00Z"), await recordAt("globex", "2026-10-06T10:00:00Z")];
    // Not October's: never on its invoice.
    await recordAt("acme", "2026-11-01T00:00:00.000Z");
    await recordAt("acme", "2026-09-30T23:59:59.999Z");

    app.clock.now = at("2026-10-20T00:00:00Z");
    const draft = await admin("GET", "/admin/tenants/acme/invoices/preview", { query: { month: "2026-10" } });
    expect(draft.status).toBe(200);
    expect(draft.json()).toMatchObject({ tenant: "acme", month: "2026-10", status: "draft", currency: "USD", records: 3 });
    expect(draft.json()).not.toHaveProperty("invoiceId");
    expect(parseAmount(draft.json().total)).toBe(total(acmeRecords));
    expect(draft.json().lines.map((l: { component: string; quantity: string }) => [l.component, l.quantity])).toEqual([
      ["requests", "3"],
      ["modelTime", String(((acmeRecords[0]?.latencyMs ?? 0) + 251) / 1000)],
    ]);
    // The default month is this one.
    expect((await admin("GET", "/admin/tenants/acme/invoices/preview")).json().month).toBe("2026-10");

    app.clock.now = at("2026-11-01T00:34:59Z");
    const early = await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10", tenant: "acme" } });
    expect(expectError(early, 409, "month_not_closed")).toMatch(/2026-11-01T00:35:00.000Z/);

    app.clock.now = at("2026-11-01T00:35:00Z");
    const issued = await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10", tenant: "acme" } });
    expect(issued.status).toBe(201);
    const doc = issued.json();
    expect(doc).toMatchObject({ invoiceId: "inv-acme-2026-10", status: "issued", issuedAt: "2026-11-01T00:35:00.000Z", adjustments: [] });
    expect(doc.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parseAmount(doc.total)).toBe(total(acmeRecords));
    expect(doc.total).toBe(draft.json().total);

    // Issuing again, later, with the records changed meanwhile: the same invoice, byte for byte, nothing written.
    app.clock.now = at("2026-11-05T00:00:00Z");
    await recordAt("acme", "2026-10-15T00:00:00Z");
    const again = await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10", tenant: "acme" } });
    expect(again.status).toBe(200);
    expect(again.text).toBe(issued.text);
    expect(app.invoices.writes).toBe(1);

    // The whole month: globex issued now, acme as it was, the idle tenant skipped.
    const month = await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10" } });
    expect(month.status).toBe(200);
    expect(month.json()).toMatchObject({
      month: "2026-10",
      skipped: 1,
      issued: [
        { invoiceId: "inv-acme-2026-10", created: false, total: doc.total },
        { invoiceId: "inv-globex-2026-10", created: true },
      ],
    });
    const globexDoc = (await admin("GET", "/admin/invoices/inv-globex-2026-10")).json();
    expect(parseAmount(globexDoc.total)).toBe(total(globexRecords));
    // Globex's contract price: its own unit price, and no per-second component.
    expect(globexDoc.lines).toEqual([
      { model: "iris", version: null, component: "requests", unit: "request", quantity: "2", unitPrice: "0.0015", amount: "0.003" },
    ]);
  });

  it("bills records that reach a closed month later as an adjustment on the next invoice; the issued one never changes", async () => {
    const october = [await recordAt("acme", "2026-10-10T00:00:00Z"), await recordAt("acme", "2026-10-11T00:00:00Z")];
    app.clock.now = at("2026-11-02T00:00:00Z");
    const oct = await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10", tenant: "acme" } });
    expect(oct.status).toBe(201);
    // A repair of October, and November's own traffic.
    const late = await recordAt("acme", "2026-10-31T23:50:00Z", 900_000);
    const november = [await recordAt("acme", "2026-11-03T00:00:00Z")];
    app.clock.now = at("2026-12-01T01:00:00Z");
    const nov = await admin("POST", "/admin/invoices/issue", { json: { month: "2026-11", tenant: "acme" } });
    expect(nov.status).toBe(201);
    const doc = nov.json();
    expect(parseAmount(doc.subtotal)).toBe(total(november));
    expect(doc.adjustments).toEqual([
      {
        month: "2026-10",
        description: "late records of 2026-10",
        recordsTotal: expect.any(String),
        previouslyBilled: oct.json().total,
        amount: late.cost,
      },
    ]);
    expect(parseAmount(doc.total)).toBe(total(november) + total([late]));
    expect(parseAmount(doc.adjustments[0].recordsTotal)).toBe(total([...october, late]));
    // October's invoice is the text it was issued as.
    expect((await admin("GET", "/admin/invoices/inv-acme-2026-10", { query: { format: "json" } })).text).toBe(oct.text);
    // Once billed, the late record is adjusted no more: December's draft has no adjustment.
    expect((await admin("GET", "/admin/tenants/acme/invoices/preview", { query: { month: "2026-12" } })).json().adjustments).toEqual([]);
  });

  it("lists and shows issued invoices as JSON, CSV and a self-contained HTML page", async () => {
    await recordAt("acme", "2026-10-10T00:00:00Z");
    app.clock.now = at("2026-11-02T00:00:00Z");
    const issued = await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10", tenant: "acme" } });
    const list = await admin("GET", "/admin/invoices", { query: { tenant: "acme" } });
    expect(list.json()).toEqual({
      tenant: "acme",
      invoices: [
        {
          invoiceId: "inv-acme-2026-10",
          tenant: "acme",
          month: "2026-10",
          currency: "USD",
          subtotal: issued.json().total,
          adjustments: "0",
          total: issued.json().total,
          issuedAt: "2026-11-02T00:00:00.000Z",
          sha256: issued.json().sha256,
        },
      ],
    });
    expect((await admin("GET", "/admin/invoices")).json()).toEqual({
      invoices: [{ invoiceId: "inv-acme-2026-10", tenant: "acme", month: "2026-10" }],
    });
    const csv = await admin("GET", "/admin/invoices/inv-acme-2026-10", { query: { format: "csv" } });
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.text.split("\r\n")[1]).toMatch(/^inv-acme-2026-10,acme,2026-10,issued,USD,line,iris,,requests,request,1,0.002,0.002,$/);
    const html = await admin("GET", "/admin/invoices/inv-acme-2026-10", { query: { format: "html" } });
    expect(html.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(html.headers["content-security-policy"]).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'.*frame-ancestors 'none'$/,
    );
    expect(html.text).toContain("inv-acme-2026-10");
    expect(html.text).toContain(issued.json().sha256);
    const draftHtml = await admin("GET", "/admin/tenants/acme/invoices/preview", { query: { month: "2026-11", format: "html" } });
    expect(draftHtml.text).toContain("DRAFT");
  });

  it("answers a bad month, format or id, and an unknown tenant, with the error shape", async () => {
    expectError(await admin("GET", "/admin/tenants/acme/invoices/preview", { query: { month: "2026-13" } }), 400, "invalid_request");
    expectError(await admin("GET", "/admin/tenants/nobody/invoices/preview", { query: { month: "2026-10" } }), 404, "not_found");
    expectError(await admin("POST", "/admin/invoices/issue", { json: { month: "October" } }), 400, "invalid_request");
    expectError(await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10", tenant: "nobody" } }), 404, "not_found");
    expectError(await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10", extra: 1 } }), 400, "invalid_request");
    expectError(await admin("GET", "/admin/invoices/inv-acme-2026-10"), 404, "not_found");
    expectError(await admin("GET", "/admin/invoices/not-an-id"), 404, "not_found");
    expectError(await admin("GET", "/admin/invoices/inv-acme-2026-10", { query: { format: "pdf" } }), 400, "invalid_request");
  });
});

describe("invoices (tenant API)", () => {
  beforeEach(async () => {
    await recordAt("acme", "2026-10-10T00:00:00Z");
    await recordAt("globex", "2026-10-10T00:00:00Z");
    app.clock.now = at("2026-11-02T00:00:00Z");
    expect((await admin("POST", "/admin/invoices/issue", { json: { month: "2026-10" } })).status).toBe(200);
  });

  it("lists and reads the caller's own invoices, in every format", async () => {
    const list = await app.request("GET", "/v1/invoices", { as: acme });
    expect(list.status).toBe(200);
    expect(list.json().invoices.map((i: { invoiceId: string }) => i.invoiceId)).toEqual(["inv-acme-2026-10"]);
    const theirs = await app.request("GET", "/v1/invoices", { as: globex });
    expect(theirs.json().invoices.map((i: { invoiceId: string }) => i.invoiceId)).toEqual(["inv-globex-2026-10"]);
    const own = await app.request("GET", "/v1/invoices/inv-acme-2026-10", { as: acme });
    expect(own.status).toBe(200);
    expect(own.text).toBe((await admin("GET", "/admin/invoices/inv-acme-2026-10")).text);
    const html = await app.request("GET", "/v1/invoices/inv-acme-2026-10", { as: acme, query: { format: "html" } });
    expect(html.headers["content-security-policy"]).toMatch(/^default-src 'none'/);
    expect(html.text).toMatch(/^<!DOCTYPE html>/);
  });

  it("answers another tenant's invoice id exactly as one that names nothing, and needs usage:read", async () => {
    const other = await app.request("GET", "/v1/invoices/inv-globex-2026-10", { as: acme });
    const none = await app.request("GET", "/v1/invoices/inv-acme-2026-09", { as: acme });
    expect(expectError(other, 404, "not_found")).toBe("invoice 'inv-globex-2026-10' does not exist");
    expect(expectError(none, 404, "not_found")).toBe("invoice 'inv-acme-2026-09' does not exist");
    expectError(await app.request("GET", "/v1/invoices", { as: principal({ scopes: ["invoke"] }) }), 403, "forbidden");
    expectError(await app.request("GET", "/v1/invoices/inv-acme-2026-10", { as: principal({ scopes: ["invoke"] }) }), 403, "forbidden");
  });
});
