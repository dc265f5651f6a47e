/**
 * Where issued invoices live in the model store's bucket: `invoices/<tenant>/<yyyy-mm>/invoice.<format>`.
 * The IAM grants (infra/aws ModelStore.grantInvoiceRead/Write) name the prefix; test/infra checks
 * the two agree.
 */
export const INVOICE_PREFIX = "invoices/";

export type InvoiceFileFormat = "json" | "csv" | "html";

/** The prefix of one tenant's invoices (a delimiter ends it: `acme` never lists `acme-corp`'s). */
export const tenantInvoicePrefix = (tenant: string): string => `${INVOICE_PREFIX}${tenant}/`;

export const invoiceKey = (tenant: string, month: string, format: InvoiceFileFormat): string =>
  `${tenantInvoicePrefix(tenant)}${month}/invoice.${format}`;

/** The tenant and month of an invoice document's key, or undefined for any other key. */
export function invoiceOfKey(key: string): { readonly tenant: string; readonly month: string } | undefined {
  const m = /^invoices\/([a-z0-9-]{3,40})\/(\d{4}-\d{2})\/invoice\.json$/.exec(key);
  return m?.[1] !== undefined && m[2] !== undefined ? { tenant: m[1], month: m[2] } : undefined;
}
