import { PRICE_COMPONENTS, type Price, type PriceComponents } from "./prices";

/**
 * The batch price: what a line of a batch job costs, as a share of the model's price in force
 * (list or contract), as OpenAI prices its Batch API at half its interactive price. Batch work
 * runs off the interactive path, on capacity left over, which is why it may cost less.
 *
 * Each component of the price is scaled and rounded half-up to a whole nano-unit once, so the
 * batch price is itself an exact price: a line's cost is then computed by the same rule as any
 * record's (functions/core/money/cost.ts), and an invoice shows the batch unit prices as such.
 */
export const BATCH_PRICE_PERCENT = 50n;

export function batchPriceOf<P extends Pick<Price, "components">>(price: P, percent = BATCH_PRICE_PERCENT): P {
  const components: { -readonly [K in keyof PriceComponents]: bigint } = {};
  for (const k of PRICE_COMPONENTS) {
    const v = price.components[k];
    if (v !== undefined) components[k] = (2n * v * percent + 100n) / 200n;
  }
  return { ...price, components };
}
