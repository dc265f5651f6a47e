import { GetObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "@jest/globals";
import { resolveTarget } from "../../cli/context";
import { S3InvoiceStore } from "../../functions/aws/invoice-store";
import { DynamoRegistry } from "../../functions/aws/registry-store";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import { invoiceKey } from "../../functions/contract/invoice-keys";
import { registryTable, usageTable } from "../../functions/contract/tables";
import type { InvoiceDocument } from "../../functions/core/billing/invoice";
import { parseAmount } from "../../functions/core/money/amount";
import { buildUsageRecord, type UsageRecord } from "../../functions/core/usage";
import { e2eTable, localDocumentClient } from "../adapters/dynamo";
import { cli } from "./cli-run";
import { admin, call, e2ePlatform, newTenant } from "./helpers";

/**
 * Invoices over months this suite controls: closed months in the past, whose records it writes
 * itself through the platform's own usage sink (as a request, or a reconciliation repair, would),
 * priced by `iris-pr`'s config price, which is in force from the epoch on. Fresh tenants, so no
 * other suite's records are on these invoices.
 */

const MODEL = "iris-pr";
const doc = localDocumentClient();
const sink = new DynamoUsageSink(doc, e2eTable(usageTable), { retentionDays: 400, maxRecordsPerPack: 1 });

/** `YYYY-MM` of the month `k` months before this one. */
function monthsAgo(k: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - k, 1)).toISOString().slice(0, 7);
}

let n = 0;
async function write(tenantId: string, iso: string, latencyMs: number): Promise<UsageRecord> {
  const prices = (await new DynamoRegistry(doc, e2eTable(registryTable)).getModel(MODEL))?.prices ?? [];
  const at = Date.parse(iso);
  const r = buildUsageRecord({
    requestId: `inv-e2e-${process.pid}-${Date.now()}-${n++}`,
    receivedAt: at,
    finishedAt: at + latencyMs,
    tenantId,
    keyId: "InvoiceKey000001",
    model: MODEL,
    version: 1,
    status: 200,
    bytesIn: 10,
    bytesOut: 10,
    prices,
  });
  expect(r.cost).toBeDefined();
  expect(await sink.record(r)).toBe("recorded");
  return r;
}

const sum = (records: readonly UsageRecord[]) => records.reduce((s, r) => s + parseAmount(r.cost ?? "0"), 0n);

async function issue(month: string, tenant: string): Promise<{ status: number; text: string; body: InvoiceDocument }> {
  const res = await admin().request<InvoiceDocument>("POST", "/admin/invoices/issue", { month, tenant });
  return { status: res.status, text: res.text, body: res.body };
}

async function stored(tenant: string, month: string): Promise<{ text: string; sha256: string | undefined }> {
  const s3 = resolveTarget({ dataDir: e2ePlatform().dataDir }).s3();
  const out = await s3.send(new GetObjectCommand({ Bucket: "mge2e-models", Key: invoiceKey(tenant, month, "json") }));
  return { text: (await out.Body?.transformToString("utf-8")) ?? "", sha256: out.Metadata?.sha256 };
}

describe("invoices", () => {
  it("two tenants' closed month: issued once, totals exactly their priced records; a late record is an adjustment on the next month's invoice, the issued one unchanged", async () => {
    const a = await newTenant([MODEL], "inv-a");
    const b = await newTenant([MODEL], "inv-b");
    const m1 = monthsAgo(3);
    const m2 = monthsAgo(2);
    const aM1 = [await write(a.tenantId, `${m1}-01T00:00:00.000Z`, 120), await write(a.tenantId, `${m1}-15T12:00:00.000Z`, 3_456)];
    aM1.push(await write(a.tenantId, `${m1}-28T23:59:59.000Z`, 7));
    const bM1 = [await write(b.tenantId, `${m1}-02T08:00:00.000Z`, 1_000), await write(b.tenantId, `${m1}-20T08:00:00.000Z`, 1)];
    const aM2 = [await write(a.tenantId, `${m2}-10T10:00:00.000Z`, 500)];

    // A draft says so; the open month cannot be issued (exit 2, and why).
    const draft = await admin().request<InvoiceDocument>("GET", `/admin/tenants/${a.tenantId}/invoices/preview`, undefined, { month: m1 });
    expect(draft.status).toBe(200);
    expect(draft.body).toMatchObject({ status: "draft", tenant: a.tenantId, month: m1, records: 3 });
    const open = await cli(["invoices", "issue", "--month", monthsAgo(0), "--tenant", a.tenantId]);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/has not closed/);

    // Issued through the CLI: the document, with its id and hash; the total is the records' sum, exactly.
    const issuedA = await cli(["invoices", "issue", "--month", m1, "--tenant", a.tenantId, "--json"]);
    expect({ code: issuedA.code, stderr: issuedA.stderr }).toEqual({ code: 0, stderr: "" });
    const docA = JSON.parse(issuedA.stdout);
    expect(docA).toMatchObject({ invoiceId: `inv-${a.tenantId}-${m1}`, status: "issued", currency: "USD", records: 3, adjustments: [] });
    expect(parseAmount(docA.total)).toBe(sum(aM1));
    expect(docA.total).toBe(draft.body.total);
    const lineSum = docA.lines.reduce((s: bigint, l: { amount: string }) => s + parseAmount(l.amount), 0n);
    expect(lineSum).toBe(sum(aM1));
    const issuedB = await issue(m1, b.tenantId);
    expect(issuedB.status).toBe(201);
    expect(parseAmount(issuedB.body.total)).toBe(sum(bM1));

    // Stored in the model store with its hash; issuing again returns the very same bytes.
    const asIssued = await stored(a.tenantId, m1);
    expect(asIssued.sha256).toBe(docA.sha256);
    const again = await issue(m1, a.tenantId);
    expect(again.status).toBe(200);
    expect(again.text).toBe(asIssued.text);

    // A record of the closed month arrives late (a repair): next month's invoice adjusts for it.
    const late = await write(a.tenantId, `${m1}-27T22:00:00.000Z`, 900_000);
    const issuedM2 = await issue(m2, a.tenantId);
    expect(issuedM2.status).toBe(201);
    expect(parseAmount(issuedM2.body.subtotal)).toBe(sum(aM2));
    expect(issuedM2.body.adjustments).toEqual([
      {
        month: m1,
        description: `late records of ${m1}`,
        recordsTotal: expect.any(String),
        previouslyBilled: docA.total,
        amount: late.cost,
      },
    ]);
    expect(parseAmount(issuedM2.body.total)).toBe(sum(aM2) + sum([late]));
    // …and the issued invoice stays byte for byte what it was, in the store and through the API.
    expect((await stored(a.tenantId, m1)).text).toBe(asIssued.text);
    expect((await admin().request("GET", `/admin/invoices/inv-${a.tenantId}-${m1}`, undefined, { format: "json" })).text).toBe(
      asIssued.text,
    );
    // B's invoice has no adjustment to carry, and the late record never moved it.
    expect((await issue(m1, b.tenantId)).text).toBe(issuedB.text);
  });

  it("tenants read their own invoices, as a self-contained HTML page too; another tenant's id is a 404", async () => {
    const a = await newTenant([MODEL], "inv-c");
    const b = await newTenant([MODEL], "inv-d");
    const m = monthsAgo(4);
    await write(a.tenantId, `${m}-05T05:05:05.000Z`, 42);
    expect((await issue(m, a.tenantId)).status).toBe(201);
    const id = `inv-${a.tenantId}-${m}`;

    const list = await call("/v1/invoices", { key: a.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.invoices.map((i: { invoiceId: string }) => i.invoiceId)).toEqual([id]);
    expect((await call("/v1/invoices", { key: b.apiKey })).body.invoices).toEqual([]);
    const other = await call(`/v1/invoices/${id}`, { key: b.apiKey });
    expect(other.status).toBe(404);
    expect(other.body.error.message).toBe(`invoice '${id}' does not exist`);

    const page = await call(`/v1/invoices/${id}?format=html`, { key: a.apiKey });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'sha256-/);
    const html = page.text;
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain(id);
    // Self-contained: nothing that loads or runs.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import|\sstyle=/i);
    // The CLI shows the very same page.
    const shown = await cli(["invoices", "show", id, "--format", "html"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe(html);
    const csv = await call(`/v1/invoices/${id}?format=csv`, { key: a.apiKey });
    expect(csv.text.split("\r\n")[0]).toMatch(/^invoiceId,tenant,month,status,currency,type,/);
  });

  it("s3rver, the local S3, ignores If-None-Match on a PUT: locally only the read before the write keeps an invoice from being written twice", async () => {
    // Known, and said in docs/billing.md; should s3rver start refusing the second write, this fails and the docs can say so.
    const store = new S3InvoiceStore(resolveTarget({ dataDir: e2ePlatform().dataDir }).s3(), "mge2e-models");
    const tenant = `s3rver-${process.pid}`.slice(0, 40);
    const files = (text: string) => ({ json: text, csv: "", html: "", sha256: "0".repeat(64) });
    expect(await store.put(tenant, "2000-01", files('{"first":true}'))).toBe("created");
    expect(await store.put(tenant, "2000-01", files('{"second":true}'))).toBe("created");
    expect(await store.get(tenant, "2000-01")).toBe('{"second":true}');
  });
});
