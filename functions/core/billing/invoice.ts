import { CurrencyMismatchError, formatAmount, parseAmount } from "../money/amount";
import { COST_COMPONENTS, type CostBreakdown, costOf } from "../money/cost";
import type { Price, PriceComponents } from "../money/prices";
import { isBilledKind, kindOf, recordPrice, type UsageRecord } from "../usage";
import { periodOf } from "./month";

/**
 * An invoice, built from a tenant's records of one month and the models' price histories: pure,
 * no store. Each record is re-priced with the price in force at its time (costOf's breakdown by
 * component), and its components are added into lines per model (and version, where the price
 * was that version's own), component and unit price. The record's stored `cost` is what is
 * billed: the subtotal is exactly the sum of the month's stored costs, and where re-pricing
 * disagrees with a stored cost the difference is a line of its own (`correction`), never hidden.
 */

export type InvoiceStatus = "draft" | "issued";

/** What a line bills: a cost component, or the correction of stored costs re-pricing disagreed with. */
export type LineComponent = (typeof COST_COMPONENTS)[number] | "correction";

export interface InvoiceLine {
  readonly model: string;
  /** The version, where the price applied was that version's own; null where the model's price covers every version. */
  readonly version: number | null;
  readonly component: LineComponent;
  /** What `quantity` counts and `unitPrice` is per: `request`, `1M tokens`, `second`, `record`. */
  readonly unit: string;
  /** Decimal string: requests and tokens are whole, seconds to the millisecond. */
  readonly quantity: string;
  /** Per `unit`, in the invoice currency; null on a correction line. */
  readonly unitPrice: string | null;
  /**
   * The sum of the records' own rounded component amounts: it may differ from quantity ×
   * unit price by the rounding of each record (at most half a nano-unit per record).
   */
  readonly amount: string;
}

/** A closed month's records that changed after its invoice was issued, billed (or credited) here. */
export interface InvoiceAdjustment {
  readonly month: string;
  readonly description: string;
  /** The total of that month's priced records when this invoice was built. */
  readonly recordsTotal: string;
  /** What its invoice and the adjustments issued since had billed for it. */
  readonly previouslyBilled: string;
  /** recordsTotal − previouslyBilled. */
  readonly amount: string;
}

export interface InvoiceDocument {
  readonly tenant: string;
  readonly month: string;
  readonly status: InvoiceStatus;
  readonly currency: string;
  /** The month as a range, [from, to). */
  readonly period: { readonly from: string; readonly to: string };
  /** Set once issued. */
  readonly invoiceId?: string;
  readonly issuedAt?: string;
  readonly lines: readonly InvoiceLine[];
  /** Σ lines: exactly Σ the month's priced records' costs. */
  readonly subtotal: string;
  readonly adjustments: readonly InvoiceAdjustment[];
  /** subtotal + Σ adjustments. */
  readonly total: string;
  /** Priced records the lines bill. */
  readonly records: number;
  readonly notes: readonly string[];
  /** SHA-256 (hex) of the canonical JSON of the document without this field; set once issued. */
  readonly sha256?: string;
}

/** The lines' sum and the records' sum disagree: a bug, never a bill. */
export class InvoiceSumError extends Error {
  override readonly name = "InvoiceSumError";
}

/** What each component is counted in and priced per. */
const UNITS: Readonly<Record<LineComponent, string>> = {
  requests: "request",
  input: "1M tokens",
  cachedInput: "1M tokens",
  output: "1M tokens",
  modelTime: "second",
  correction: "record",
};

/** The unit price of each component under a price; undefined where the price does not charge it. */
function unitPriceOf(c: PriceComponents, component: (typeof COST_COMPONENTS)[number]): bigint | undefined {
  switch (component) {
    case "requests":
      return c.perRequest;
    case "input":
      return c.perMillionInput;
    case "cachedInput":
      return c.perMillionCachedInput ?? c.perMillionInput;
    case "output":
      return c.perMillionOutput;
    case "modelTime":
      return c.perSecond;
  }
}

/** A record that is billed: billable, with a stored cost. */
export const isPriced = (r: UsageRecord): boolean => isBilledKind(kindOf(r)) && r.cost !== undefined;

/** Σ stored costs of the priced records, checked to be in `currency`. */
export function recordsTotal(records: Iterable<UsageRecord>, currency: string): { total: bigint; count: number } {
  let total = 0n;
  let count = 0;
  for (const r of records) {
    if (!isPriced(r)) continue;
    total += storedCost(r, currency);
    count += 1;
  }
  return { total, count };
}

function storedCost(r: UsageRecord, currency: string): bigint {
  if (r.currency !== undefined && r.currency !== currency) {
    throw new CurrencyMismatchError(`record ${r.requestId} costs ${r.currency}, the invoice is in ${currency}`);
  }
  return parseAmount(r.cost ?? "0");
}

interface Accumulator {
  model: string;
  version: number | null;
  component: LineComponent;
  unitPrice: bigint | null;
  /** Requests and tokens; milliseconds for model time. */
  quantity: bigint;
  amount: bigint;
}

/** Quantities of a record per component, as costOf counts them (model time in milliseconds). */
function quantitiesOf(r: UsageRecord): Record<(typeof COST_COMPONENTS)[number], bigint> {
  const input = BigInt(r.tokens?.input ?? 0);
  const cachedReported = BigInt(r.tokens?.cached ?? 0);
  const cached = cachedReported < input ? cachedReported : input;
  return {
    requests: 1n,
    input: input - cached,
    cachedInput: cached,
    output: BigInt(r.tokens?.output ?? 0),
    modelTime: BigInt(r.latencyMs),
  };
}

const COMPONENT_ORDER: readonly LineComponent[] = [...COST_COMPONENTS, "correction"];

function compareLines(a: Accumulator, b: Accumulator): number {
  if (a.model !== b.model) return a.model < b.model ? -1 : 1;
  if (a.version !== b.version) return (a.version ?? 0) - (b.version ?? 0);
  if (a.component !== b.component) return COMPONENT_ORDER.indexOf(a.component) - COMPONENT_ORDER.indexOf(b.component);
  const pa = a.unitPrice ?? -1n;
  const pb = b.unitPrice ?? -1n;
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** Milliseconds as seconds, exactly: `1.5`, `12`, `0.001`. */
function secondsText(ms: bigint): string {
  const whole = ms / 1000n;
  const fraction = (ms % 1000n).toString().padStart(3, "0").replace(/0+$/, "");
  return fraction === "" ? whole.toString() : `${whole}.${fraction}`;
}

/** Nano-units per token (or per ms) stay exact: the per-million and per-second prices are shown as set. */
function lineOf(a: Accumulator): InvoiceLine {
  return {
    model: a.model,
    version: a.version,
    component: a.component,
    unit: UNITS[a.component],
    quantity: a.component === "modelTime" ? secondsText(a.quantity) : a.quantity.toString(),
    unitPrice: a.unitPrice === null ? null : formatAmount(a.unitPrice),
    amount: formatAmount(a.amount),
  };
}

export interface InvoiceLines {
  readonly lines: InvoiceLine[];
  readonly subtotal: bigint;
  readonly records: number;
  /** Records whose stored cost re-pricing disagreed with (their difference is on a correction line). */
  readonly corrected: number;
}

/**
 * The lines of a month's records. `pricesOf(model)` is the model's whole price history (the
 * registry's `ModelRecord.prices`). Asserts Σ lines = Σ stored costs.
 */
export function invoiceLines(
  records: Iterable<UsageRecord>,
  pricesOf: (model: string) => readonly Price[],
  tenant: string,
  currency: string,
): InvoiceLines {
  const lines = new Map<string, Accumulator>();
  const add = (key: Omit<Accumulator, "quantity" | "amount">, quantity: bigint, amount: bigint) => {
    const id = JSON.stringify([key.model, key.version, key.component, key.unitPrice?.toString() ?? null]);
    const line = lines.get(id) ?? { ...key, quantity: 0n, amount: 0n };
    line.quantity += quantity;
    line.amount += amount;
    lines.set(id, line);
  };
  let expected = 0n;
  let count = 0;
  let corrected = 0;
  for (const r of records) {
    if (!isPriced(r)) continue;
    if (r.tenantId !== tenant) throw new InvoiceSumError(`record ${r.requestId} is ${r.tenantId}'s, not ${tenant}'s`);
    const stored = storedCost(r, currency);
    expected += stored;
    count += 1;
    // A batch line is re-priced at the batch price: its lines carry their own (lower) unit prices.
    const price = recordPrice(pricesOf(r.model), { ...r, tenantId: tenant });
    let billed = 0n;
    if (price && price.currency === currency) {
      const quantities = quantitiesOf(r);
      const cost: CostBreakdown = costOf(price, {
        requests: quantities.requests,
        inputTokens: r.tokens?.input ?? 0,
        outputTokens: r.tokens?.output ?? 0,
        cachedInputTokens: r.tokens?.cached ?? 0,
        modelTimeMs: r.latencyMs,
      });
      const version = price.version ?? null;
      for (const component of COST_COMPONENTS) {
        const unitPrice = unitPriceOf(price.components, component);
        if (unitPrice === undefined || quantities[component] === 0n) continue;
        add({ model: r.model, version, component, unitPrice }, quantities[component], cost[component]);
        billed += cost[component];
      }
    }
    if (billed !== stored) {
      add({ model: r.model, version: null, component: "correction", unitPrice: null }, 1n, stored - billed);
      corrected += 1;
    }
  }
  const sorted = [...lines.values()].sort(compareLines);
  const subtotal = sorted.reduce((s, l) => s + l.amount, 0n);
  if (subtotal !== expected) {
    throw new InvoiceSumError(`invoice lines add up to ${formatAmount(subtotal)}, the records to ${formatAmount(expected)}`);
  }
  return { lines: sorted.map(lineOf), subtotal, records: count, corrected };
}

/** An issued invoice as adjustments read it: its month, what it billed for it, and what it adjusted. */
export type IssuedSummary = Pick<InvoiceDocument, "month" | "subtotal" | "adjustments">;

/**
 * Adjustments for an invoice of `month`: for each earlier month with an issued invoice (and whose
 * records are all still kept: `currentTotals` has it), the difference between that month's
 * records now and what was billed for it (its invoice's subtotal plus every adjustment of it on
 * the tenant's other issued invoices). Late records show up once, on the next invoice built.
 */
export function adjustmentsFor(
  month: string,
  issued: readonly IssuedSummary[],
  currentTotals: ReadonlyMap<string, bigint>,
): InvoiceAdjustment[] {
  const out: InvoiceAdjustment[] = [];
  const earlier = issued.filter((i) => i.month < month).sort((a, b) => (a.month < b.month ? -1 : 1));
  for (const k of earlier) {
    const now = currentTotals.get(k.month);
    if (now === undefined) continue;
    let billed = parseAmount(k.subtotal);
    for (const j of issued) {
      if (j.month === month) continue;
      for (const a of j.adjustments) if (a.month === k.month) billed += signedAmount(a.amount);
    }
    const diff = now - billed;
    if (diff === 0n) continue;
    out.push({
      month: k.month,
      description: `late records of ${k.month}`,
      recordsTotal: formatAmount(now),
      previouslyBilled: formatAmount(billed),
      amount: formatAmount(diff),
    });
  }
  return out;
}

/** An amount that may be negative (a credit): formatAmount writes those with a leading `-`. */
export const signedAmount = (text: string): bigint => (text.startsWith("-") ? -parseAmount(text.slice(1)) : parseAmount(text));

export const ROUNDING_NOTE =
  "Each line's amount is the sum of its records' own amounts, each rounded half-up to 0.000000001 once; " +
  "it may differ from quantity × unit price by that rounding.";
export const CORRECTION_NOTE =
  "A correction line bills the difference between records' stored costs (priced when each request was received) " +
  "and their re-pricing here; the stored cost is what is billed.";
export const DRAFT_NOTE = "DRAFT: not an invoice. The figures may change until the month is closed and its invoice issued.";

export interface BuildInvoiceInput {
  readonly tenant: string;
  readonly month: string;
  readonly currency: string;
  readonly records: Iterable<UsageRecord>;
  readonly pricesOf: (model: string) => readonly Price[];
  readonly adjustments: readonly InvoiceAdjustment[];
  /** Absent: a draft. */
  readonly issue?: { readonly invoiceId: string; readonly issuedAt: string };
}

/** The invoice (a draft unless `issue` is given); without its sha256, which issuing adds. */
export function buildInvoice(i: BuildInvoiceInput): InvoiceDocument {
  const { lines, subtotal, records, corrected } = invoiceLines(i.records, i.pricesOf, i.tenant, i.currency);
  const adjusted = i.adjustments.reduce((s, a) => s + signedAmount(a.amount), 0n);
  const notes = [...(i.issue ? [] : [DRAFT_NOTE]), ROUNDING_NOTE, ...(corrected > 0 ? [CORRECTION_NOTE] : [])];
  return {
    tenant: i.tenant,
    month: i.month,
    status: i.issue ? "issued" : "draft",
    currency: i.currency,
    period: periodOf(i.month),
    ...(i.issue ? { invoiceId: i.issue.invoiceId, issuedAt: i.issue.issuedAt } : {}),
    lines,
    subtotal: formatAmount(subtotal),
    adjustments: i.adjustments,
    total: formatAmount(subtotal + adjusted),
    records,
    notes,
  };
}
