import { createHash } from "node:crypto";
import { BadRequestError } from "../errors";
import { formatAmount } from "../money/amount";
import { TENANT_ID } from "../tenants";
import { type InvoiceDocument, signedAmount } from "./invoice";
import { isMonth } from "./month";

/**
 * An invoice's forms: the canonical JSON (what is stored and hashed), CSV and a self-contained
 * HTML page. All three are functions of the document alone, so an issued invoice renders the
 * same bytes every time.
 */

export const INVOICE_FORMATS = ["json", "csv", "html"] as const;
export type InvoiceFormat = (typeof INVOICE_FORMATS)[number];

export const CONTENT_TYPES: Readonly<Record<InvoiceFormat, string>> = {
  json: "application/json",
  csv: "text/csv; charset=utf-8",
  html: "text/html; charset=utf-8",
};

export function parseFormat(v: string | undefined): InvoiceFormat {
  if (v === undefined) return "json";
  if ((INVOICE_FORMATS as readonly string[]).includes(v)) return v as InvoiceFormat;
  throw new BadRequestError(`'format' must be one of ${INVOICE_FORMATS.join(", ")}, got '${v}'`);
}

/** Opaque to callers, stable, one per tenant and month. */
export const invoiceIdOf = (tenant: string, month: string): string => `inv-${tenant}-${month}`;

/** The tenant and month an invoice id names, or undefined when it names none (a 404 to the caller). */
export function parseInvoiceId(id: string): { readonly tenant: string; readonly month: string } | undefined {
  const m = /^inv-(.+)-(\d{4}-\d{2})$/.exec(id);
  const tenant = m?.[1];
  const month = m?.[2];
  if (tenant === undefined || month === undefined || !TENANT_ID.test(tenant) || !isMonth(month)) return undefined;
  return { tenant, month };
}

/**
 * JSON with object keys sorted (by code unit) and no whitespace: one text per value, so its
 * hash names the document. Only what documents hold: strings, safe integers, booleans, null,
 * arrays and plain objects; `undefined` members are left out, as JSON.stringify does.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new TypeError(`canonical JSON holds integers only, got ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof v}`);
}

const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** The hash an issued document carries: of its canonical JSON without the `sha256` field. */
export function invoiceHash(doc: InvoiceDocument): string {
  const { sha256: _, ...body } = doc;
  return sha256Hex(canonicalJson(body));
}

/** The document with its hash, and the exact text stored for it. */
export function sealInvoice(doc: InvoiceDocument): { readonly document: InvoiceDocument; readonly json: string; readonly sha256: string } {
  const sha256 = invoiceHash(doc);
  const document = { ...doc, sha256 };
  return { document, json: canonicalJson(document), sha256 };
}

// ---- CSV -------------------------------------------------------------------------------------

const CSV_COLUMNS = [
  "invoiceId",
  "tenant",
  "month",
  "status",
  "currency",
  "type",
  "model",
  "version",
  "component",
  "unit",
  "quantity",
  "unitPrice",
  "amount",
  "description",
] as const;

function csvField(v: string | number | null | undefined): string {
  if (v === undefined || v === null) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One table (RFC 4180, CRLF): a row per line, per adjustment, then subtotal, adjustments and
 * total rows; each row names its invoice, so rows of many invoices can be concatenated.
 */
export function invoiceCsv(doc: InvoiceDocument): string {
  type Row = Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null>>;
  const head: Row = {
    invoiceId: doc.invoiceId ?? "",
    tenant: doc.tenant,
    month: doc.month,
    status: doc.status,
    currency: doc.currency,
  };
  const adjusted = doc.adjustments.length > 0;
  const rows: Row[] = [
    ...doc.lines.map((l) => ({ ...head, type: "line", ...l })),
    { ...head, type: "subtotal", amount: doc.subtotal },
    ...doc.adjustments.map((a) => ({ ...head, type: "adjustment", amount: a.amount, description: a.description })),
    ...(adjusted ? [{ ...head, type: "adjustments", amount: sumText(doc) }] : []),
    { ...head, type: "total", amount: doc.total },
  ];
  const line = (r: Row) => `${CSV_COLUMNS.map((c) => csvField(r[c])).join(",")}\r\n`;
  return `${CSV_COLUMNS.join(",")}\r\n${rows.map(line).join("")}`;
}

/** total − subtotal, as the document states both. */
const sumText = (doc: InvoiceDocument): string => formatAmount(signedAmount(doc.total) - signedAmount(doc.subtotal));

// ---- HTML ------------------------------------------------------------------------------------

/** Text for HTML: every character that could open markup or leave an attribute is an entity. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = [
  "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#111}",
  "h1{font-size:1.5rem;margin-bottom:.25rem}",
  ".draft{color:#b00;font-weight:bold;border:2px solid #b00;padding:.5rem;margin:1rem 0}",
  "table{border-collapse:collapse;width:100%;margin:1rem 0}",
  "th,td{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left}",
  "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}",
  "tfoot td{font-weight:bold}",
  "dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}",
  "dt{color:#555}dd{margin:0}",
  "footer{color:#555;font-size:.85rem;margin-top:2rem}",
  "code{word-break:break-all}",
].join("");

/** The page's one stylesheet, allowed by its hash: no inline style attributes, no script. */
export const INVOICE_STYLE_HASH = `sha256-${createHash("sha256").update(STYLE, "utf8").digest("base64")}`;

/**
 * The policy the page runs under, in its own meta element and (with the directives a meta
 * element cannot carry) in the response header: nothing loads, nothing runs.
 */
export const INVOICE_CSP = `default-src 'none'; style-src '${INVOICE_STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
export const INVOICE_CSP_HEADER = `${INVOICE_CSP}; frame-ancestors 'none'`;

const componentName: Readonly<Record<string, string>> = {
  requests: "Requests",
  input: "Input tokens",
  cachedInput: "Cached input tokens",
  output: "Output tokens",
  modelTime: "Model time",
  correction: "Correction of stored costs",
};

/** A self-contained page: no external resource, no script, every tenant-supplied string escaped. */
export function invoiceHtml(doc: InvoiceDocument): string {
  const e = escapeHtml;
  const money = (s: string) => `${e(s)} ${e(doc.currency)}`;
  const title = doc.status === "issued" ? `Invoice ${doc.invoiceId ?? ""}` : `Draft invoice, ${doc.month}`;
  const lines = doc.lines
    .map(
      (l) =>
        `<tr><td>${e(l.model)}</td><td>${l.version === null ? "all" : e(String(l.version))}</td><td>${e(componentName[l.component] ?? l.component)}</td>` +
        `<td class="n">${e(l.quantity)}</td><td>${e(l.unit)}</td><td class="n">${l.unitPrice === null ? "" : money(l.unitPrice)}</td>` +
        `<td class="n">${money(l.amount)}</td></tr>`,
    )
    .join("\n");
  const adjustments = doc.adjustments
    .map(
      (a) =>
        `<tr><td>${e(a.description)}</td><td class="n">${money(a.recordsTotal)}</td><td class="n">${money(a.previouslyBilled)}</td>` +
        `<td class="n">${money(a.amount)}</td></tr>`,
    )
    .join("\n");
  const fields: Array<[string, string]> = [
    ["Tenant", e(doc.tenant)],
    ["Month", `${e(doc.month)} (${e(doc.period.from)} to ${e(doc.period.to)}, UTC)`],
    ["Status", e(doc.status)],
    ...(doc.invoiceId ? [["Invoice", e(doc.invoiceId)] as [string, string]] : []),
    ...(doc.issuedAt ? [["Issued", e(doc.issuedAt)] as [string, string]] : []),
    ["Currency", e(doc.currency)],
    ["Priced requests", e(String(doc.records))],
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${e(INVOICE_CSP)}">
<meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${e(title)}</h1>
${doc.status === "draft" ? '<p class="draft">DRAFT: this is a preview of an open month, not an invoice.</p>\n' : ""}<dl>
${fields.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("\n")}
</dl>
<table>
<thead><tr><th>Model</th><th>Version</th><th>Component</th><th class="n">Quantity</th><th>Unit</th><th class="n">Unit price</th><th class="n">Amount</th></tr></thead>
<tbody>
${lines}
</tbody>
<tfoot><tr><td colspan="6">Subtotal</td><td class="n">${money(doc.subtotal)}</td></tr></tfoot>
</table>
${
  doc.adjustments.length > 0
    ? `<h2>Adjustments</h2>
<table>
<thead><tr><th>Adjustment</th><th class="n">Records now</th><th class="n">Billed before</th><th class="n">Amount</th></tr></thead>
<tbody>
${adjustments}
</tbody>
</table>
`
    : ""
}<table>
<tfoot><tr><td>Total</td><td class="n">${money(doc.total)}</td></tr></tfoot>
</table>
<footer>
${doc.notes.map((n) => `<p>${e(n)}</p>`).join("\n")}
${doc.sha256 ? `<p>SHA-256 of the invoice document (canonical JSON): <code>${e(doc.sha256)}</code></p>` : ""}
</footer>
</body>
</html>
`;
}

/** The document in `format`. JSON is the canonical text. */
export function renderInvoice(doc: InvoiceDocument, format: InvoiceFormat): string {
  if (format === "csv") return invoiceCsv(doc);
  if (format === "html") return invoiceHtml(doc);
  return canonicalJson(doc);
}
