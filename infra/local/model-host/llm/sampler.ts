import { seededRng } from "../../models/rng";

export interface SamplingParams {
  /** 0 = greedy (argmax). */
  readonly temperature: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches top_p. */
  readonly topP: number;
  /** Same seed, same prompt, same settings: same tokens. */
  readonly seed: number;
}

export type TokenSampler = (logits: Float32Array) => number;

/**
 * Picks the next token from one position's logits. Greedy at temperature 0; otherwise softmax
 * at the temperature, cut to the top_p nucleus, drawn with a PRNG seeded per request (never
 * Math.random), so a request with a seed is reproducible.
 */
export function createSampler(params: SamplingParams): TokenSampler {
  if (params.temperature === 0) return argmax;
  const random = seededRng(params.seed);
  return (logits) => {
    let max = Number.NEGATIVE_INFINITY;
    for (const z of logits) if (z > max) max = z;
    const probs = new Float64Array(logits.length);
    let sum = 0;
    for (let i = 0; i < logits.length; i++) {
      const p = Math.exp(((logits[i] as number) - max) / params.temperature);
      probs[i] = p;
      sum += p;
    }
    // Token ids by falling probability; ties by id so the order never depends on sort stability.
    const order = Array.from(probs.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
    let kept = 0;
    let mass = 0;
    while (kept < order.length && (kept === 0 || mass < params.topP * sum)) {
      mass += probs[order[kept] as number] as number;
      kept++;
    }
    let r = random() * mass;
    for (let i = 0; i < kept; i++) {
      const id = order[i] as number;
      r -= probs[id] as number;
      if (r < 0) return id;
    }
    return order[kept - 1] as number;
  };
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return best;
}
