import { NotFoundError } from "../errors";
import type { RegistryAdmin } from "../ports";
import { appendPrice, InvalidPriceError, type Price, type PriceComponents, priceFromJson, specificityOf } from "./prices";

/**
 * The price book's operations over the registry, where each model's prices live beside its
 * versions: set (append), the prices in force, a model's history.
 */

/** What an operator sends to set a price: the components as decimal strings, a start, a scope. */
export interface SetPriceInput {
  readonly version?: number | undefined;
  readonly tenant?: string | undefined;
  /** ISO-8601 with a zone; @default the earliest start allowed (now + lead). */
  readonly from?: string | undefined;
  readonly components: { readonly [K in keyof PriceComponents]?: string };
}

export interface PriceBookOptions {
  readonly now: number;
  /** The platform's one currency (ISO 4217). */
  readonly currency: string;
  /**
   * How far ahead of now a price may start: the gateways read prices with their registry
   * cache, so a price starting sooner could reach some of them after its start, and records
   * received in between would be priced by the price before it. Starting no sooner than the
   * cache TTL, every record is priced by the price in force at its received time.
   */
  readonly leadMs: number;
}

/** Appends a price to `model`'s history, starting at `input.from` (default: the earliest allowed). */
export async function setPrice(registry: RegistryAdmin, model: string, input: SetPriceInput, o: PriceBookOptions): Promise<Price> {
  const record = await registry.getModel(model);
  if (!record) throw new NotFoundError(`model '${model}' does not exist`);
  const earliest = Math.ceil((o.now + o.leadMs) / 1000) * 1000;
  const from = input.from ?? new Date(earliest).toISOString();
  const price = priceFromJson({
    model,
    ...(input.version !== undefined ? { version: input.version } : {}),
    ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
    currency: o.currency,
    effectiveFrom: from,
    components: input.components,
  });
  const normalized: Price = { ...price, effectiveFrom: new Date(price.effectiveFrom).toISOString() };
  if (Date.parse(normalized.effectiveFrom) < o.now + o.leadMs) {
    throw new InvalidPriceError(
      `from ${from} is too soon: a price takes effect once every gateway has read it, at ${new Date(earliest).toISOString()} at the earliest`,
    );
  }
  if (input.version !== undefined && !record.versions.has(input.version)) {
    throw new NotFoundError(`version ${input.version} of '${model}' does not exist`);
  }
  appendPrice(record.prices ?? [], normalized, new Date(o.now));
  await registry.addPrice(normalized);
  return normalized;
}

/** A price with whether it is the one in force for its scope now or one still to come. */
export interface ListedPrice {
  readonly price: Price;
  readonly status: "in force" | "scheduled";
}

/**
 * Each scope's price in force at `at` and those scheduled after it, most specific scope
 * last within a model; `tenant` narrows to the list prices and that tenant's contract prices.
 */
export function pricesAt(prices: readonly Price[], at: number, filter: { readonly tenant?: string | undefined } = {}): ListedPrice[] {
  const byScope = new Map<string, Price[]>();
  for (const p of prices) {
    if (filter.tenant !== undefined && p.tenant !== undefined && p.tenant !== filter.tenant) continue;
    const scope = JSON.stringify([p.model, p.version ?? null, p.tenant ?? null]);
    byScope.set(scope, [...(byScope.get(scope) ?? []), p]);
  }
  const listed: ListedPrice[] = [];
  for (const scoped of byScope.values()) {
    const sorted = [...scoped].sort((a, b) => Date.parse(a.effectiveFrom) - Date.parse(b.effectiveFrom));
    const current = sorted.filter((p) => Date.parse(p.effectiveFrom) <= at).at(-1);
    if (current) listed.push({ price: current, status: "in force" });
    for (const p of sorted) if (Date.parse(p.effectiveFrom) > at) listed.push({ price: p, status: "scheduled" });
  }
  return listed.sort((a, b) => compareScope(a.price, b.price) || Date.parse(a.price.effectiveFrom) - Date.parse(b.price.effectiveFrom));
}

/** A model's whole price history, oldest first; `tenant` narrows as in `pricesAt`. */
export function priceHistory(prices: readonly Price[], filter: { readonly tenant?: string | undefined } = {}): Price[] {
  return prices
    .filter((p) => filter.tenant === undefined || p.tenant === undefined || p.tenant === filter.tenant)
    .sort((a, b) => Date.parse(a.effectiveFrom) - Date.parse(b.effectiveFrom) || compareScope(a, b));
}

function compareScope(a: Price, b: Price): number {
  if (a.model !== b.model) return a.model < b.model ? -1 : 1;
  return specificityOf(a) - specificityOf(b) || (a.tenant ?? "").localeCompare(b.tenant ?? "") || (a.version ?? 0) - (b.version ?? 0);
}
