import { NotFoundError } from "../errors";
import { formatAmount } from "../money/amount";
import type { Price } from "../money/prices";
import type { RegistryReader, UsageReader } from "../ports";
import type { UsageRecord } from "../usage";
import {
  adjustmentsFor,
  buildInvoice,
  type InvoiceAdjustment,
  type InvoiceDocument,
  type IssuedSummary,
  recordsTotal,
  signedAmount,
} from "./invoice";
import { daysOf, monthStart, requireClosed } from "./month";
import { type InvoiceFormat, invoiceHash, invoiceIdOf, parseInvoiceId, renderInvoice, sealInvoice } from "./render";

/**
 * Invoices over the stores: drafts of any month, issuing a closed one (once: an issued invoice
 * is never written again), reading and listing issued ones. The rules live here; the store
 * only stores (functions/aws/invoice-store.ts on S3).
 */

/** An issued invoice's files; `json` is the document's canonical text, exactly as stored. */
export interface InvoiceFiles {
  readonly json: string;
  readonly csv: string;
  readonly html: string;
  readonly sha256: string;
}

export type PutOutcome = "created" | "exists";

/** Where issued invoices are kept: written once, never replaced. */
export interface InvoiceStore {
  /** The stored JSON text of a tenant's invoice of `month`, or undefined. */
  get(tenant: string, month: string): Promise<string | undefined>;
  /** A stored rendition, or undefined. */
  getRendition(tenant: string, month: string, format: "csv" | "html"): Promise<string | undefined>;
  /**
   * Stores the renditions, then the JSON only if none is stored yet (a conditional write where
   * the store has one): `exists` when another issue got there first, whose files then stand.
   */
  put(tenant: string, month: string, files: InvoiceFiles): Promise<PutOutcome>;
  /** Rewrites the renditions of a stored invoice (after losing a race to issue it). */
  putRenditions(tenant: string, month: string, files: Pick<InvoiceFiles, "csv" | "html" | "sha256">): Promise<void>;
  /** Months of the tenant's issued invoices, sorted. */
  months(tenant: string): Promise<string[]>;
  /** Every issued invoice's tenant and month, sorted. */
  all(): Promise<Array<{ readonly tenant: string; readonly month: string }>>;
}

export interface InvoiceDeps {
  /** The records, read day by day through the tenant/day partitions (never a scan). */
  readonly usage: Pick<UsageReader, "records">;
  /** Each model's price history (`ModelRecord.prices`). */
  readonly registry: RegistryReader;
  readonly invoices: InvoiceStore;
  /** The platform currency: every record's cost is in it. */
  readonly currency: string;
  /** How long after its end a month closes (see DEFAULT_INVOICE_CLOSE_DELAY_SECONDS). */
  readonly closeDelaySeconds: number;
  /**
   * Days usage records are kept: a month whose earliest records may have expired is no longer
   * re-added for adjustments (its expired records would read as a credit).
   */
  readonly retentionDays: number;
  readonly now: () => number;
}

/** An issued invoice as read back: its document (hash checked) and the exact stored text. */
export interface IssuedInvoice {
  readonly document: InvoiceDocument;
  readonly json: string;
}

/** The stored text does not hash to the hash it carries: tampered or damaged, never served as issued. */
export class InvoiceIntegrityError extends Error {
  override readonly name = "InvoiceIntegrityError";
}

const RECORDS_PER_READ = 1000;

/** Every record (all kinds) of the tenant received in the month. */
export async function monthRecords(usage: Pick<UsageReader, "records">, tenant: string, month: string): Promise<UsageRecord[]> {
  const out: UsageRecord[] = [];
  for (const day of daysOf(month)) {
    let after: string | undefined;
    do {
      const page = await usage.records(tenant, day, {
        fromTime: `${day}T00:00:00.000Z`,
        toTime: `${day}T23:59:59.999Z`,
        limit: RECORDS_PER_READ,
        after,
      });
      out.push(...page.items);
      after = page.cursor;
    } while (after !== undefined);
  }
  return out;
}

async function pricesOfModels(registry: RegistryReader, records: readonly UsageRecord[]): Promise<(model: string) => readonly Price[]> {
  const models = [...new Set(records.map((r) => r.model))];
  const entries = await Promise.all(models.map(async (m) => [m, (await registry.getModel(m))?.prices ?? []] as const));
  const byModel = new Map<string, readonly Price[]>(entries);
  return (model) => byModel.get(model) ?? [];
}

function parseStored(json: string, tenant: string, month: string): IssuedInvoice {
  const document = JSON.parse(json) as InvoiceDocument;
  if (document.sha256 === undefined || invoiceHash(document) !== document.sha256) {
    throw new InvoiceIntegrityError(`the stored invoice of ${tenant} for ${month} does not match its sha256`);
  }
  return { document, json };
}

/** The tenant's issued invoices, oldest first. */
export async function issuedInvoices(deps: Pick<InvoiceDeps, "invoices">, tenant: string): Promise<IssuedInvoice[]> {
  const months = await deps.invoices.months(tenant);
  const read = await Promise.all(
    months.map(async (month) => {
      const json = await deps.invoices.get(tenant, month);
      return json === undefined ? undefined : parseStored(json, tenant, month);
    }),
  );
  return read.filter((i): i is IssuedInvoice => i !== undefined);
}

/** Adjustments due on an invoice of `month`: earlier issued months whose records changed since. */
async function adjustmentsDue(deps: InvoiceDeps, tenant: string, month: string): Promise<InvoiceAdjustment[]> {
  const issued: IssuedSummary[] = (await issuedInvoices(deps, tenant)).map((i) => i.document);
  const keptFrom = deps.now() - deps.retentionDays * 86_400_000;
  const totals = new Map<string, bigint>();
  for (const k of issued) {
    if (k.month >= month || monthStart(k.month) <= keptFrom) continue;
    totals.set(k.month, recordsTotal(await monthRecords(deps.usage, tenant, k.month), deps.currency).total);
  }
  return adjustmentsFor(month, issued, totals);
}

async function compose(deps: InvoiceDeps, tenant: string, month: string, issue?: { invoiceId: string; issuedAt: string }) {
  const records = await monthRecords(deps.usage, tenant, month);
  const [pricesOf, adjustments] = await Promise.all([pricesOfModels(deps.registry, records), adjustmentsDue(deps, tenant, month)]);
  return buildInvoice({ tenant, month, currency: deps.currency, records, pricesOf, adjustments, ...(issue ? { issue } : {}) });
}

/** A draft of the tenant's invoice of `month` as it stands now: any month, open or closed. */
export function previewInvoice(deps: InvoiceDeps, tenant: string, month: string): Promise<InvoiceDocument> {
  return compose(deps, tenant, month);
}

export interface IssueResult {
  readonly invoice: IssuedInvoice;
  /** False when it had been issued before: the stored invoice, unchanged. */
  readonly created: boolean;
}

/**
 * Issues the tenant's invoice of a closed month (409 while open), or returns the one issued
 * before, byte for byte: an issued invoice is never rebuilt.
 */
export async function issueInvoice(deps: InvoiceDeps, tenant: string, month: string): Promise<IssueResult> {
  const result = await issue(deps, tenant, month, { skipWithoutCharges: false });
  if (!result) throw new Error("unreachable: an invoice is issued without charges when asked to");
  return result;
}

/** Issues (or returns the issued) invoice; undefined when `skipWithoutCharges` and a new one would bill nothing. */
async function issue(
  deps: InvoiceDeps,
  tenant: string,
  month: string,
  o: { readonly skipWithoutCharges: boolean },
): Promise<IssueResult | undefined> {
  requireClosed(month, deps.now(), deps.closeDelaySeconds);
  const stored = await deps.invoices.get(tenant, month);
  if (stored !== undefined) return { invoice: parseStored(stored, tenant, month), created: false };
  const doc = await compose(deps, tenant, month, {
    invoiceId: invoiceIdOf(tenant, month),
    issuedAt: new Date(deps.now()).toISOString(),
  });
  if (o.skipWithoutCharges && !hasCharges(doc)) return undefined;
  const sealed = sealInvoice(doc);
  const files = {
    json: sealed.json,
    csv: renderInvoice(sealed.document, "csv"),
    html: renderInvoice(sealed.document, "html"),
    sha256: sealed.sha256,
  };
  if ((await deps.invoices.put(tenant, month, files)) === "created") {
    return { invoice: { document: sealed.document, json: sealed.json }, created: true };
  }
  // Another issue stored its invoice first: that one stands, with renditions of its own document.
  const winner = await deps.invoices.get(tenant, month);
  if (winner === undefined) throw new Error(`the invoice of ${tenant} for ${month} was refused as existing, and cannot be read`);
  const invoice = parseStored(winner, tenant, month);
  await deps.invoices.putRenditions(tenant, month, {
    csv: renderInvoice(invoice.document, "csv"),
    html: renderInvoice(invoice.document, "html"),
    sha256: invoice.document.sha256 ?? "",
  });
  return { invoice, created: false };
}

/** Whether a draft has anything to bill: a tenant with neither is skipped when a whole month is issued. */
export const hasCharges = (doc: InvoiceDocument): boolean => doc.records > 0 || doc.adjustments.length > 0;

export interface MonthIssue {
  readonly month: string;
  readonly issued: Array<ReturnType<typeof invoiceSummary> & { readonly created: boolean }>;
  /** Tenants with nothing to bill this month (no priced records, no adjustment due). */
  readonly skipped: number;
}

/** Issues the month for each of `tenants` that has something to bill (already issued ones are returned as they are). */
export async function issueMonth(deps: InvoiceDeps, month: string, tenants: readonly string[]): Promise<MonthIssue> {
  requireClosed(month, deps.now(), deps.closeDelaySeconds);
  const issued: MonthIssue["issued"] = [];
  let skipped = 0;
  for (const tenant of tenants) {
    const r = await issue(deps, tenant, month, { skipWithoutCharges: true });
    if (r) issued.push({ ...invoiceSummary(r.invoice.document), created: r.created });
    else skipped += 1;
  }
  return { month, issued, skipped };
}

/** What a list shows of an issued invoice. */
export function invoiceSummary(d: InvoiceDocument) {
  const adjustments = d.adjustments.reduce((s, a) => s + signedAmount(a.amount), 0n);
  return {
    invoiceId: d.invoiceId ?? invoiceIdOf(d.tenant, d.month),
    tenant: d.tenant,
    month: d.month,
    currency: d.currency,
    subtotal: d.subtotal,
    adjustments: formatAmount(adjustments),
    total: d.total,
    ...(d.issuedAt ? { issuedAt: d.issuedAt } : {}),
    ...(d.sha256 ? { sha256: d.sha256 } : {}),
  };
}

/**
 * An issued invoice by id. With `tenant` (a tenant reading its own), an id of another tenant's
 * invoice is a 404 without a read, exactly like an id that names nothing.
 */
export async function readInvoice(deps: Pick<InvoiceDeps, "invoices">, invoiceId: string, tenant?: string): Promise<IssuedInvoice> {
  const id = parseInvoiceId(invoiceId);
  const notFound = () => new NotFoundError(`invoice '${invoiceId}' does not exist`);
  if (!id || (tenant !== undefined && id.tenant !== tenant)) throw notFound();
  const json = await deps.invoices.get(id.tenant, id.month);
  if (json === undefined) throw notFound();
  return parseStored(json, id.tenant, id.month);
}

/** An issued invoice in `format`: the stored JSON text itself, or the stored rendition (rendered from the document if missing). */
export async function invoiceIn(deps: Pick<InvoiceDeps, "invoices">, invoice: IssuedInvoice, format: InvoiceFormat): Promise<string> {
  if (format === "json") return invoice.json;
  const { tenant, month } = invoice.document;
  return (await deps.invoices.getRendition(tenant, month, format)) ?? renderInvoice(invoice.document, format);
}
