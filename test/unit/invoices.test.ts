import { createHash } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  adjustmentsFor,
  buildInvoice,
  CORRECTION_NOTE,
  DRAFT_NOTE,
  type InvoiceDocument,
  invoiceLines,
  ROUNDING_NOTE,
} from "../../functions/core/billing/invoice";
import { closesAt, daysOf, MonthNotClosedError, nextMonth, parseMonth, requireClosed } from "../../functions/core/billing/month";
import {
  canonicalJson,
  escapeHtml,
  INVOICE_CSP,
  invoiceCsv,
  invoiceHash,
  invoiceHtml,
  invoiceIdOf,
  parseInvoiceId,
  sealInvoice,
} from "../../functions/core/billing/render";
import { BadRequestError } from "../../functions/core/errors";
import { parseAmount } from "../../functions/core/money/amount";
import { type Price, priceFromJson } from "../../functions/core/money/prices";
import { buildUsageRecord, type UsageRecord } from "../../functions/core/usage";

const EPOCH = "1970-01-01T00:00:00.000Z";
const price = (p: { model: string; version?: number; tenant?: string; components: Record<string, string> }): Price =>
  priceFromJson({ currency: "USD", effectiveFrom: EPOCH, ...p });

let n = 0;
/** A record as the gateway writes it: priced once, with the prices in force at its time. */
function record(
  prices: readonly Price[],
  r: {
    model?: string;
    version?: number;
    tenant?: string;
    at?: string;
    ms?: number;
    input?: number;
    output?: number;
    cached?: number;
    kind?: "refused" | "shadow";
  },
): UsageRecord {
  const at = Date.parse(r.at ?? "2026-10-15T12:00:00Z");
  return buildUsageRecord({
    requestId: `req-${n++}`,
    receivedAt: at,
    finishedAt: at + (r.ms ?? 0),
    tenantId: r.tenant ?? "acme",
    keyId: "AcmeKey000000001",
    model: r.model ?? "llm",
    version: r.version ?? 1,
    kind: r.kind,
    status: 200,
    bytesIn: 10,
    bytesOut: 20,
    ...(r.input !== undefined ? { tokens: { input: r.input, output: r.output ?? 0, ...(r.cached ? { cached: r.cached } : {}) } } : {}),
    prices,
  });
}

const sumCosts = (records: readonly UsageRecord[]) => records.reduce((s, r) => s + (r.cost ? parseAmount(r.cost) : 0n), 0n);

describe("invoice lines", () => {
  const llm = [
    price({ model: "llm", components: { perMillionInput: "0.15", perMillionOutput: "0.000003", perMillionCachedInput: "0.05" } }),
    // Version 2 has a price of its own: its lines carry the version.
    price({ model: "llm", version: 2, components: { perMillionInput: "0.3", perMillionOutput: "0.6" } }),
    // A contract tenant.
    price({ model: "llm", tenant: "globex", components: { perMillionInput: "0.1", perMillionOutput: "0.4" } }),
  ];
  const clf = [price({ model: "clf", components: { perRequest: "0.0005", perSecond: "0.0001" } })];
  const pricesOf = (m: string) => (m === "llm" ? llm : m === "clf" ? clf : []);

  it("groups by model, version where its price differs, component and unit price; quantities add, amounts add the records' rounded amounts", () => {
    const records = [
      record(llm, { input: 1000, output: 250, cached: 400 }),
      record(llm, { input: 2000, output: 250 }),
      record(llm, { input: 10, output: 250 }),
      record(llm, { version: 2, input: 100, output: 100 }),
      record(clf, { model: "clf", ms: 1234 }),
      record(clf, { model: "clf", ms: 5 }),
    ];
    const { lines, subtotal, records: count, corrected } = invoiceLines(records, pricesOf, "acme", "USD");
    expect(lines).toEqual([
      { model: "clf", version: null, component: "requests", unit: "request", quantity: "2", unitPrice: "0.0005", amount: "0.001" },
      { model: "clf", version: null, component: "modelTime", unit: "second", quantity: "1.239", unitPrice: "0.0001", amount: "0.0001239" },
      { model: "llm", version: null, component: "input", unit: "1M tokens", quantity: "2610", unitPrice: "0.15", amount: "0.0003915" },
      { model: "llm", version: null, component: "cachedInput", unit: "1M tokens", quantity: "400", unitPrice: "0.05", amount: "0.00002" },
      // 750 tokens at 0.000003 a million is 2.25 nano-units; each record's 0.75 rounds to 1: 3.
      {
        model: "llm",
        version: null,
        component: "output",
        unit: "1M tokens",
        quantity: "750",
        unitPrice: "0.000003",
        amount: "0.000000003",
      },
      { model: "llm", version: 2, component: "input", unit: "1M tokens", quantity: "100", unitPrice: "0.3", amount: "0.00003" },
      { model: "llm", version: 2, component: "output", unit: "1M tokens", quantity: "100", unitPrice: "0.6", amount: "0.00006" },
    ]);
    expect(subtotal).toBe(sumCosts(records));
    expect({ count, corrected }).toEqual({ count: 6, corrected: 0 });
  });

  it("bills a contract tenant at its own unit prices, and leaves out what costs nothing (refused, shadow, unpriced)", () => {
    const records = [
      record(llm, { tenant: "globex", input: 1000, output: 10 }),
      record(llm, { tenant: "globex", input: 1000, output: 10, kind: "refused" }),
      record(llm, { tenant: "globex", input: 1000, output: 10, kind: "shadow" }),
      record([], { tenant: "globex", model: "free", input: 5, output: 5 }),
    ];
    const { lines, records: count } = invoiceLines(records, pricesOf, "globex", "USD");
    expect(lines.map((l) => [l.component, l.quantity, l.unitPrice, l.amount])).toEqual([
      ["input", "1000", "0.1", "0.0001"],
      ["output", "10", "0.4", "0.000004"],
    ]);
    expect(count).toBe(1);
  });

  it("trusts a stored cost re-pricing disagrees with, and bills the difference on a correction line", () => {
    const honest = record(clf, { model: "clf", ms: 1000 });
    const odd = { ...record(clf, { model: "clf", ms: 1000 }), cost: "1" };
    const orphan = { ...record(clf, { model: "gone", ms: 0 }), model: "gone", cost: "0.25", currency: "USD" };
    const doc = buildInvoice({
      tenant: "acme",
      month: "2026-10",
      currency: "USD",
      records: [honest, odd, orphan],
      pricesOf,
      adjustments: [],
    });
    const corrections = doc.lines.filter((l) => l.component === "correction");
    expect(corrections).toEqual([
      { model: "clf", version: null, component: "correction", unit: "record", quantity: "1", unitPrice: null, amount: "0.9994" },
      { model: "gone", version: null, component: "correction", unit: "record", quantity: "1", unitPrice: null, amount: "0.25" },
    ]);
    expect(parseAmount(doc.subtotal)).toBe(sumCosts([honest, odd, orphan]));
    expect(doc.notes).toContain(CORRECTION_NOTE);
  });

  it("adds up to the records' stored costs exactly, whatever the prices and counts", () => {
    const amount = fc
      .bigInt({ min: 0n, max: 5_000_000_000n })
      .map((v) => `${v / 1_000_000_000n}.${(v % 1_000_000_000n).toString().padStart(9, "0")}`);
    fc.assert(
      fc.property(
        fc.record({ perRequest: amount, perMillionInput: amount, perMillionOutput: amount, perSecond: amount }, { requiredKeys: [] }),
        fc.array(
          fc.record({
            input: fc.integer({ min: 0, max: 2_000_000 }),
            output: fc.integer({ min: 0, max: 2_000_000 }),
            ms: fc.integer({ min: 0, max: 900_000 }),
            version: fc.integer({ min: 1, max: 3 }),
          }),
          { maxLength: 30 },
        ),
        (components, usage) => {
          if (Object.keys(components).length === 0) return;
          const prices = [price({ model: "m", components })];
          const records = usage.map((u) => record(prices, { model: "m", ...u }));
          const { lines, subtotal } = invoiceLines(records, () => prices, "acme", "USD");
          expect(subtotal).toBe(sumCosts(records));
          expect(lines.reduce((s, l) => s + parseAmount(l.amount), 0n)).toBe(subtotal);
        },
      ),
    );
  });

  it("marks a draft as one, and states the rounding rule on every invoice", () => {
    const draft = buildInvoice({ tenant: "acme", month: "2026-10", currency: "USD", records: [], pricesOf, adjustments: [] });
    expect(draft).toMatchObject({ status: "draft", subtotal: "0", total: "0", records: 0, lines: [] });
    expect(draft.notes).toEqual([DRAFT_NOTE, ROUNDING_NOTE]);
    expect(draft).not.toHaveProperty("invoiceId");
    const issued = buildInvoice({
      tenant: "acme",
      month: "2026-10",
      currency: "USD",
      records: [],
      pricesOf,
      adjustments: [],
      issue: { invoiceId: "inv-acme-2026-10", issuedAt: "2026-11-01T01:00:00.000Z" },
    });
    expect(issued).toMatchObject({
      status: "issued",
      invoiceId: "inv-acme-2026-10",
      period: { from: "2026-10-01T00:00:00.000Z", to: "2026-11-01T00:00:00.000Z" },
    });
    expect(issued.notes).toEqual([ROUNDING_NOTE]);
  });
});

describe("adjustments", () => {
  const issued = (month: string, subtotal: string, adjustments: InvoiceDocument["adjustments"] = []) => ({ month, subtotal, adjustments });

  it("bills what an earlier issued month's records gained since it was billed, once", () => {
    const aug = issued("2026-08", "10");
    const sep = issued("2026-09", "5", [
      { month: "2026-08", description: "late records of 2026-08", recordsTotal: "12", previouslyBilled: "10", amount: "2" },
    ]);
    const totals = new Map([
      ["2026-08", parseAmount("12.5")],
      ["2026-09", parseAmount("5")],
    ]);
    expect(adjustmentsFor("2026-10", [aug, sep], totals)).toEqual([
      { month: "2026-08", description: "late records of 2026-08", recordsTotal: "12.5", previouslyBilled: "12", amount: "0.5" },
    ]);
    // Nothing changed: nothing to adjust.
    expect(adjustmentsFor("2026-10", [aug, sep], new Map([["2026-08", parseAmount("12")]]))).toEqual([]);
  });

  it("credits a month whose records lost cost, never adjusts its own or a later month, and skips a month no longer kept", () => {
    const aug = issued("2026-08", "10");
    const oct = issued("2026-10", "1");
    expect(
      adjustmentsFor(
        "2026-09",
        [aug, oct],
        new Map([
          ["2026-08", parseAmount("9")],
          ["2026-10", 0n],
        ]),
      ),
    ).toEqual([{ month: "2026-08", description: "late records of 2026-08", recordsTotal: "9", previouslyBilled: "10", amount: "-1" }]);
    expect(adjustmentsFor("2026-08", [aug], new Map([["2026-08", parseAmount("11")]]))).toEqual([]);
    expect(adjustmentsFor("2026-09", [aug], new Map())).toEqual([]);
  });

  it("adds the adjustments into the total, the subtotal staying the month's own records", () => {
    const doc = buildInvoice({
      tenant: "acme",
      month: "2026-10",
      currency: "USD",
      records: [],
      pricesOf: () => [],
      adjustments: [{ month: "2026-09", description: "late records of 2026-09", recordsTotal: "3", previouslyBilled: "1", amount: "2" }],
    });
    expect({ subtotal: doc.subtotal, total: doc.total }).toEqual({ subtotal: "0", total: "2" });
  });
});

describe("months", () => {
  it("reads YYYY-MM only, and knows its days", () => {
    expect(parseMonth("2026-02")).toBe("2026-02");
    for (const bad of ["2026-13", "2026-1", "26-01", "2026-01-01", 202601]) expect(() => parseMonth(bad)).toThrow(BadRequestError);
    expect(daysOf("2028-02")).toHaveLength(29);
    expect(daysOf("2026-12").at(-1)).toBe("2026-12-31");
    expect(nextMonth("2026-12")).toBe("2027-01");
  });

  it("closes a month the close delay after it ends", () => {
    const delay = 35 * 60;
    const at = closesAt("2026-11", delay);
    expect(new Date(at).toISOString()).toBe("2026-12-01T00:35:00.000Z");
    expect(() => requireClosed("2026-11", at - 1, delay)).toThrow(MonthNotClosedError);
    expect(() => requireClosed("2026-11", at - 1, delay)).toThrow(/2026-12-01T00:35:00.000Z/);
    expect(() => requireClosed("2026-11", at, delay)).not.toThrow();
  });
});

describe("invoice documents", () => {
  const doc = buildInvoice({
    tenant: "acme",
    month: "2026-10",
    currency: "USD",
    records: [record([price({ model: "m", components: { perRequest: "0.5" } })], { model: "m" })],
    pricesOf: () => [price({ model: "m", components: { perRequest: "0.5" } })],
    adjustments: [],
    issue: { invoiceId: invoiceIdOf("acme", "2026-10"), issuedAt: "2026-11-01T01:00:00.000Z" },
  });

  it("are canonical JSON (sorted keys, no spaces) carrying the hash of the rest", () => {
    expect(canonicalJson({ b: [1, { d: null, c: "x" }], a: true, u: undefined })).toBe('{"a":true,"b":[1,{"c":"x","d":null}]}');
    const sealed = sealInvoice(doc);
    const { sha256, ...rest } = JSON.parse(sealed.json);
    expect(sha256).toBe(createHash("sha256").update(canonicalJson(rest)).digest("hex"));
    expect(invoiceHash(sealed.document)).toBe(sealed.sha256);
    expect(canonicalJson(JSON.parse(sealed.json))).toBe(sealed.json);
  });

  it("have ids that name their tenant and month, and nothing else", () => {
    expect(parseInvoiceId(invoiceIdOf("acme-corp", "2026-10"))).toEqual({ tenant: "acme-corp", month: "2026-10" });
    for (const bad of ["inv-acme-2026-13", "acme-2026-10", "inv-AC-2026-10", "inv-x-2026-10", "inv-acme-2026-10/../x"]) {
      expect(parseInvoiceId(bad)).toBeUndefined();
    }
  });

  it("render as CSV rows naming the invoice, with the sums", () => {
    const csv = invoiceCsv(sealInvoice(doc).document).split("\r\n");
    expect(csv[0]).toBe("invoiceId,tenant,month,status,currency,type,model,version,component,unit,quantity,unitPrice,amount,description");
    expect(csv.slice(1)).toEqual([
      "inv-acme-2026-10,acme,2026-10,issued,USD,line,m,,requests,request,1,0.5,0.5,",
      "inv-acme-2026-10,acme,2026-10,issued,USD,subtotal,,,,,,,0.5,",
      "inv-acme-2026-10,acme,2026-10,issued,USD,total,,,,,,,0.5,",
      "",
    ]);
  });

  it("render as a self-contained HTML page: no external resource, no script, a CSP its style passes, every string escaped", () => {
    const hostile: InvoiceDocument = {
      ...doc,
      tenant: `<script>alert("t")</script>`,
      lines: doc.lines.map((l) => ({ ...l, model: `"><svg onload=alert(1)>` })),
      notes: ["<b>&'"],
    };
    const html = invoiceHtml(hostile);
    // Only these elements and attributes: nothing that loads, runs or styles inline.
    const tags = new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => (m[1] ?? "").toLowerCase()));
    const allowedTags = "html head meta title style body h1 h2 p dl dt dd table thead tbody tfoot tr th td footer code".split(" ");
    expect([...tags].filter((t) => !allowedTags.includes(t))).toEqual([]);
    const attributes = new Set([...html.matchAll(/<[a-z][^>]*>/g)].flatMap((m) => [...m[0].matchAll(/\s([a-z-]+)=/g)].map((a) => a[1])));
    expect([...attributes].sort()).toEqual(["charset", "class", "colspan", "content", "http-equiv", "lang", "name"]);
    expect(html).not.toMatch(/url\(|@import/);
    expect(html).toContain(escapeHtml(`<script>alert("t")</script>`));
    expect(html).toContain(escapeHtml(`"><svg onload=alert(1)>`));
    expect(html).toContain("&#60;b&#62;&#38;&#39;");
    const style = /<style>([^<]*)<\/style>/.exec(html)?.[1] ?? "";
    const hash = `sha256-${createHash("sha256").update(style).digest("base64")}`;
    expect(INVOICE_CSP).toContain(`style-src '${hash}'`);
    expect(INVOICE_CSP).toMatch(/^default-src 'none';/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(INVOICE_CSP)}">`);
    expect(invoiceHtml({ ...doc, status: "draft" })).toContain("DRAFT");
  });
});
