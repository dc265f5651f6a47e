import { ApiError } from "../errors";
import { TENANT_ID } from "../tenants";
import { MAX_VERSION_NUMBER } from "../version-number";
import { formatAmount, parseCurrency, parsePriceAmount } from "./amount";

/**
 * The price book: what a model's use costs, by model, version and tenant, with the time each
 * price takes effect. A price history is append-only; a new price takes over from its
 * `effectiveFrom` on, and a record is priced once, with the price in force when it was
 * received, so a later price never changes an earlier record's cost.
 */

/** Amounts in nano-units of the price's currency; an absent component is not charged. */
export interface PriceComponents {
  /** Per request (billable record). */
  readonly perRequest?: bigint;
  /** Per million input (prompt) tokens that were not served from the engine's cache. */
  readonly perMillionInput?: bigint;
  /** Per million output (completion) tokens. */
  readonly perMillionOutput?: bigint;
  /** Per million input tokens served from the engine's prefix cache. @default perMillionInput */
  readonly perMillionCachedInput?: bigint;
  /** Per second of model time. */
  readonly perSecond?: bigint;
}

export const PRICE_COMPONENTS = [
  "perRequest",
  "perMillionInput",
  "perMillionOutput",
  "perMillionCachedInput",
  "perSecond",
] as const satisfies ReadonlyArray<keyof PriceComponents>;

export interface Price {
  readonly model: string;
  /** Set: this version only. Absent: every version of the model. */
  readonly version?: number;
  /** Set: this tenant's contract price. Absent: the list price. */
  readonly tenant?: string;
  readonly currency: string;
  /** ISO-8601 time from which the price is in force. */
  readonly effectiveFrom: string;
  readonly components: PriceComponents;
}

/** Whose price, for which version, at what time (a usage record's `time`). */
export interface PriceQuery {
  readonly model: string;
  readonly version: number;
  readonly tenant: string;
  readonly at: string;
}

/**
 * How specific a price is; the most specific price that applies wins, whatever the dates:
 * 3 tenant + version > 2 tenant > 1 version > 0 model. A contract is the tenant's whole deal,
 * so a tenant-wide contract price outranks a list price even for a version the list prices
 * apart; a list-price change never moves a contract tenant's bill.
 */
export function specificityOf(p: Pick<Price, "tenant" | "version">): number {
  return (p.tenant !== undefined ? 2 : 0) + (p.version !== undefined ? 1 : 0);
}

/**
 * The price in force for `q`: among the prices that apply (same model; version and tenant
 * absent or equal), the most specific; at equal specificity, the latest `effectiveFrom` not
 * after `q.at` (at equal times, the one appended last). `undefined` when none applies: the
 * caller decides whether an unpriced model is free or refused.
 */
export function priceInForce(prices: readonly Price[], q: PriceQuery): Price | undefined {
  const at = timeOf(q.at, "at");
  let best: { price: Price; specificity: number; from: number } | undefined;
  for (const price of prices) {
    if (price.model !== q.model) continue;
    if (price.version !== undefined && price.version !== q.version) continue;
    if (price.tenant !== undefined && price.tenant !== q.tenant) continue;
    const from = timeOf(price.effectiveFrom, "effectiveFrom");
    if (from > at) continue;
    const specificity = specificityOf(price);
    if (!best || specificity > best.specificity || (specificity === best.specificity && from >= best.from)) {
      best = { price, specificity, from };
    }
  }
  return best?.price;
}

/** A price refused: the message names the field. */
export class InvalidPriceError extends ApiError {
  override readonly name = "InvalidPriceError";
  readonly status = 400;
  readonly type = "invalid_request";
}

const sameScope = (a: Price, b: Price) => a.model === b.model && a.version === b.version && a.tenant === b.tenant;

/**
 * The history with `price` appended, or an error saying why not. A price must take effect
 * after `now`: records are priced by the time they were received, so one received up to now,
 * even in this very millisecond, keeps the price it was received under. Nor may it take effect
 * at or before the latest price of its own scope (model, version, tenant): within a scope,
 * the order of appending is the order of taking effect, so "the latest in force" is never
 * ambiguous. (Hosts' clocks differ by a little: a caller wants `effectiveFrom` well ahead.)
 */
export function appendPrice(history: readonly Price[], price: Price, now: Date): Price[] {
  const from = timeOf(price.effectiveFrom, "effectiveFrom");
  if (from <= now.getTime()) {
    throw new InvalidPriceError(
      `effectiveFrom ${price.effectiveFrom} is not after now (${now.toISOString()}): a price cannot change what was already received`,
    );
  }
  for (const p of history) {
    if (sameScope(p, price) && timeOf(p.effectiveFrom, "effectiveFrom") >= from) {
      throw new InvalidPriceError(
        `effectiveFrom ${price.effectiveFrom} is not after ${p.effectiveFrom}, the latest price of ${scopeName(price)}`,
      );
    }
  }
  return [...history, price];
}

function scopeName(p: Pick<Price, "model" | "version" | "tenant">): string {
  return `${p.model}${p.version === undefined ? "" : ` v${p.version}`}${p.tenant === undefined ? "" : ` for ${p.tenant}`}`;
}

/** A price as JSON carries it: components as decimal strings in the price's currency. */
export interface PriceJson {
  readonly model: string;
  readonly version?: number;
  readonly tenant?: string;
  readonly currency: string;
  readonly effectiveFrom: string;
  readonly components: { readonly [K in keyof PriceComponents]?: string };
}

export function priceToJson(p: Price): PriceJson {
  const components: Record<string, string> = {};
  for (const k of PRICE_COMPONENTS) {
    const v = p.components[k];
    if (v !== undefined) components[k] = formatAmount(v);
  }
  return {
    model: p.model,
    ...(p.version === undefined ? {} : { version: p.version }),
    ...(p.tenant === undefined ? {} : { tenant: p.tenant }),
    currency: p.currency,
    effectiveFrom: p.effectiveFrom,
    components,
  };
}

const FIELDS = ["model", "version", "tenant", "currency", "effectiveFrom", "components"];
/** ISO-8601 with a date, a time and a zone: a price's start must not depend on the reader's zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads a price from untrusted JSON (admin body, config), or throws the first problem, naming
 * the field. Components are decimal strings precise to the nano-unit; at least one is set
 * (a free model says `perRequest: "0"`), and none is unknown, so a misspelt one is not free.
 */
export function priceFromJson(json: unknown): Price {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new InvalidPriceError("price must be an object");
  const o = json as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !FIELDS.includes(k));
  if (unknown !== undefined) throw new InvalidPriceError(`unknown price field '${unknown}' (known: ${FIELDS.join(", ")})`);
  if (typeof o.model !== "string" || o.model.length === 0) throw new InvalidPriceError("model must be a non-empty string");
  const { version, tenant } = o;
  if (version !== undefined && (typeof version !== "number" || !Number.isInteger(version) || version < 1 || version > MAX_VERSION_NUMBER)) {
    throw new InvalidPriceError(`version must be a whole number 1..${MAX_VERSION_NUMBER}, got ${JSON.stringify(version)}`);
  }
  if (tenant !== undefined && (typeof tenant !== "string" || !TENANT_ID.test(tenant))) {
    throw new InvalidPriceError(`tenant must match ${TENANT_ID.source}, got ${JSON.stringify(tenant)}`);
  }
  const currency = parseCurrency(o.currency, "currency");
  if (typeof o.effectiveFrom !== "string" || !ISO_TIME.test(o.effectiveFrom) || Number.isNaN(Date.parse(o.effectiveFrom))) {
    throw new InvalidPriceError(
      `effectiveFrom must be an ISO-8601 time with a zone (2026-01-01T00:00:00Z), got ${JSON.stringify(o.effectiveFrom)}`,
    );
  }
  return {
    model: o.model,
    ...(version === undefined ? {} : { version: version as number }),
    ...(tenant === undefined ? {} : { tenant: tenant as string }),
    currency,
    effectiveFrom: o.effectiveFrom,
    components: componentsFromJson(o.components),
  };
}

function componentsFromJson(json: unknown): PriceComponents {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new InvalidPriceError("components must be an object");
  const o = json as Record<string, unknown>;
  const names: readonly string[] = PRICE_COMPONENTS;
  const unknown = Object.keys(o).find((k) => !names.includes(k));
  if (unknown !== undefined) throw new InvalidPriceError(`unknown price component '${unknown}' (known: ${PRICE_COMPONENTS.join(", ")})`);
  const out: { -readonly [K in keyof PriceComponents]: bigint } = {};
  for (const k of PRICE_COMPONENTS) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== "string")
      throw new InvalidPriceError(`components.${k} must be a decimal string such as "0.15", got ${JSON.stringify(v)}`);
    out[k] = parsePriceAmount(v, `components.${k}`);
  }
  if (Object.keys(out).length === 0) throw new InvalidPriceError(`components must set at least one of ${PRICE_COMPONENTS.join(", ")}`);
  return out;
}

/** Epoch ms of an ISO time: compared as instants, since `...Z` and `...+01:00` do not sort as text. */
function timeOf(iso: string, label: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new InvalidPriceError(`${label} is not a time: ${JSON.stringify(iso)}`);
  return t;
}
