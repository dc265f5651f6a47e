import { maxCost } from "./cost";
import { type Price, priceInForce } from "./prices";

/** What a request may be answered by, and how much of it it may use. */
export interface CostBound {
  readonly model: string;
  /** The versions that may answer (the chosen one, and its fallback). */
  readonly versions: readonly number[];
  readonly tenant: string;
  /** The request's received time: its record is priced at it. */
  readonly at: string;
  /** Tokens reserved for it (prompt bound + max tokens), input or output. */
  readonly tokens: number;
  /** The longest it may run: the route's timeout, which bounds a per-second price. */
  readonly modelTimeMs: number;
}

/**
 * The most the request can cost, in nano-units: reserved against its budgets before the model
 * is called, settled to the record's cost after. Each version's price in force at `at` is
 * bounded (the dearer wins); unpriced, it reserves nothing. Past 2^53 nano-units it is held
 * there: no budget is larger, so such a request is refused, not admitted on a wrapped number.
 */
export function costEstimateNano(prices: readonly Price[] | undefined, b: CostBound): number {
  let most = 0n;
  for (const version of b.versions) {
    const price = priceInForce(prices ?? [], { model: b.model, version, tenant: b.tenant, at: b.at });
    if (!price) continue;
    const bound = maxCost(price, { inputTokens: 0, outputTokens: 0, anyTokens: b.tokens, modelTimeMs: b.modelTimeMs });
    if (bound > most) most = bound;
  }
  return most > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(most);
}
