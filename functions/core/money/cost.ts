import type { Price } from "./prices";

/**
 * The cost of usage under a price, in integer nano-units.
 *
 * Rounding rule: per-million-token and per-second prices give fractions of a nano-unit. Each
 * component of one record is computed exactly (a rational) and rounded half-up to a whole
 * nano-unit once; the record's total is the sum of its rounded components. Every aggregate
 * (an hour, an invoice, a budget) is then an exact integer sum of records' costs, so it does
 * not depend on how or in what order records are grouped. A component worth under half a
 * nano-unit (one token at $0.15 per million) costs 0; the error is at most half a nano-dollar
 * per component per record.
 */

/** What one record used, as integers (numbers must be non-negative safe integers). */
export interface UsageQuantities {
  /** Billable requests: 1 for one record. */
  readonly requests: number | bigint;
  /** Input (prompt) tokens, cached ones included, as the engine reports `prompt_tokens`. */
  readonly inputTokens: number | bigint;
  readonly outputTokens: number | bigint;
  /**
   * The part of `inputTokens` served from the engine's cache (`prompt_tokens_details.cached_tokens`).
   * A count above `inputTokens` (a broken report) is taken as all of them: the cache can
   * discount the prompt, never add to it. @default 0
   */
  readonly cachedInputTokens?: number | bigint;
  /** Model time in milliseconds. @default 0 */
  readonly modelTimeMs?: number | bigint;
}

/** A cost split by component, each rounded as above; `total` is their sum. */
export interface CostBreakdown {
  readonly currency: string;
  readonly requests: bigint;
  /** Input tokens not served from the cache, at `perMillionInput`. */
  readonly input: bigint;
  /** Cached input tokens, at `perMillionCachedInput` (or `perMillionInput` when it has none). */
  readonly cachedInput: bigint;
  readonly output: bigint;
  readonly modelTime: bigint;
  readonly total: bigint;
}

export const COST_COMPONENTS = ["requests", "input", "cachedInput", "output", "modelTime"] as const satisfies ReadonlyArray<
  keyof CostBreakdown
>;

/** A usage count that is not a non-negative integer: a bug upstream, never a bill. */
export class InvalidUsageError extends Error {
  override readonly name = "InvalidUsageError";
}

const MILLION = 1_000_000n;
const MS_PER_S = 1_000n;

/** n / d rounded half-up, for n ≥ 0 and d > 0. */
export function divRoundHalfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

function count(v: number | bigint | undefined, label: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v === "bigint" ? v < 0n : !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidUsageError(`${label} must be a non-negative integer, got ${String(v)}`);
  }
  return BigInt(v);
}

function breakdown(currency: string, parts: Omit<CostBreakdown, "currency" | "total">): CostBreakdown {
  return { currency, ...parts, total: parts.requests + parts.input + parts.cachedInput + parts.output + parts.modelTime };
}

/** The cost of one record's usage under `price`: once, at write time, with the price in force then. */
export function costOf(price: Pick<Price, "currency" | "components">, usage: UsageQuantities): CostBreakdown {
  const c = price.components;
  const input = count(usage.inputTokens, "inputTokens");
  const cachedReported = count(usage.cachedInputTokens, "cachedInputTokens");
  const cached = minOf(cachedReported, input);
  const inputPrice = c.perMillionInput ?? 0n;
  return breakdown(price.currency, {
    requests: count(usage.requests, "requests") * (c.perRequest ?? 0n),
    input: divRoundHalfUp((input - cached) * inputPrice, MILLION),
    cachedInput: divRoundHalfUp(cached * (c.perMillionCachedInput ?? inputPrice), MILLION),
    output: divRoundHalfUp(count(usage.outputTokens, "outputTokens") * (c.perMillionOutput ?? 0n), MILLION),
    modelTime: divRoundHalfUp(count(usage.modelTimeMs, "modelTimeMs") * (c.perSecond ?? 0n), MS_PER_S),
  });
}

/** Component-wise sum of costs in one currency (named, so that an empty list has one). */
export function sumCosts(costs: Iterable<CostBreakdown>, currency: string): CostBreakdown {
  const sum = { requests: 0n, input: 0n, cachedInput: 0n, output: 0n, modelTime: 0n };
  for (const c of costs) {
    if (c.currency !== currency) throw new InvalidUsageError(`cannot add a cost in ${c.currency} to costs in ${currency}`);
    for (const k of COST_COMPONENTS) sum[k] += c[k];
  }
  return breakdown(currency, sum);
}

/** What one request may use at most, known before the call. */
export interface CostReservation {
  /** Bound of the prompt's tokens (its UTF-8 bytes, say). */
  readonly inputTokens: number | bigint;
  /** The most tokens the model may generate (max_tokens). */
  readonly outputTokens: number | bigint;
  /**
   * Tokens whose side is not known (a reservation held only as one sum): each is priced at
   * the dearest per-token price. @default 0
   */
  readonly anyTokens?: number | bigint;
  /** The most model time the call may take: its timeout. @default 0 */
  readonly modelTimeMs?: number | bigint;
}

/**
 * The largest cost (nano-units, in the price's currency) one request can reach within
 * `reservation`, to reserve against a budget: never below the `costOf` total of any usage that
 * fits (one request; at most that many input, output and unknown-side tokens, any part of the
 * input cached; at most that much model time).
 *
 * Tokens are bounded by their exact dearest cost: input at the dearer of the input and
 * cached-input prices (a cached price above the input price is odd, but then an all-cached
 * prompt is the dearest), unknown-side tokens at the dearest token price. `costOf` rounds each
 * token component half-up, which adds at most half a nano-unit each; so the token bound is
 * that exact cost plus half a nano-unit per charged token component, rounded down (it is an
 * integer no actual total can pass). Model time rounds once, monotonically: its bound is exact.
 */
export function maxCost(price: Pick<Price, "components">, reservation: CostReservation): bigint {
  const c = price.components;
  const inputPrice = c.perMillionInput ?? 0n;
  const cachedPrice = c.perMillionCachedInput ?? inputPrice;
  const outputPrice = c.perMillionOutput ?? 0n;
  const dearestInput = maxOf(inputPrice, cachedPrice);
  const exact =
    count(reservation.inputTokens, "inputTokens") * dearestInput +
    count(reservation.outputTokens, "outputTokens") * outputPrice +
    count(reservation.anyTokens, "anyTokens") * maxOf(dearestInput, outputPrice);
  const roundings = BigInt([inputPrice, cachedPrice, outputPrice].filter((p) => p > 0n).length);
  const tokens = (2n * exact + roundings * MILLION) / (2n * MILLION);
  const modelTime = divRoundHalfUp(count(reservation.modelTimeMs, "modelTimeMs") * (c.perSecond ?? 0n), MS_PER_S);
  return (c.perRequest ?? 0n) + tokens + modelTime;
}

// Math.min and Math.max take numbers only.
const minOf = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const maxOf = (a: bigint, b: bigint): bigint => (a > b ? a : b);
