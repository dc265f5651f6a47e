import type { LmEngine } from "./engine";
import { createSampler, type SamplingParams } from "./sampler";

export interface GenerationRequest {
  readonly promptIds: readonly number[];
  readonly maxTokens: number;
  readonly sampling: SamplingParams;
  /** Generation ends before the first occurrence of any; the stop text itself is not returned. */
  readonly stop: readonly string[];
}

export type FinishReason = "stop" | "length";

export interface GenerationResult {
  readonly text: string;
  readonly completionTokens: number;
  readonly finishReason: FinishReason;
}

export interface GenerationHooks {
  /** Each piece of text as soon as it is final; awaited, so a slow reader slows generation. */
  onText?: (text: string) => void | Promise<void>;
  /** Sleep between tokens (a slow model, for streaming tests). */
  tokenDelayMs?: number;
  /** Stops generating, e.g. when the client went away. */
  signal?: AbortSignal;
}

/**
 * The decoding loop: one forward pass per token, sampled, decoded incrementally. Text is
 * released as soon as it cannot change any more: not while it ends in an incomplete UTF-8
 * sequence (a byte-level token can hold part of a character) and not while its end could be
 * the start of a stop sequence. The end-of-text token ends generation with "stop" and, as in
 * vLLM, counts as a completion token but adds no text.
 */
export async function generate(engine: LmEngine, req: GenerationRequest, hooks: GenerationHooks = {}): Promise<GenerationResult> {
  const sample = createSampler(req.sampling);
  const { tokenizer, config } = engine;
  const context = [...req.promptIds];
  const generated: number[] = [];
  let text = "";
  let released = 0;
  const release = async (upTo: number) => {
    if (upTo > released) {
      const piece = text.slice(released, upTo);
      released = upTo;
      await hooks.onText?.(piece);
    }
  };
  while (generated.length < req.maxTokens && !hooks.signal?.aborted) {
    if (hooks.tokenDelayMs) await new Promise((r) => setTimeout(r, hooks.tokenDelayMs));
    const next = sample(await engine.nextLogits(context));
    generated.push(next);
    if (next === config.eosTokenId) {
      await release(text.length);
      return { text, completionTokens: generated.length, finishReason: "stop" };
    }
    context.push(next);
    text = tokenizer.decode(generated.filter((id) => id !== config.eosTokenId));
    const stopAt = firstStop(text, req.stop, released);
    if (stopAt >= 0) {
      text = text.slice(0, stopAt);
      await release(text.length);
      return { text, completionTokens: generated.length, finishReason: "stop" };
    }
    await release(Math.min(completeCharacters(text), text.length - heldForStop(text, req.stop)));
  }
  await release(text.length);
  return { text, completionTokens: generated.length, finishReason: "length" };
}

/** Earliest index where a stop sequence starts; a match can begin before `from` only by its length. */
function firstStop(text: string, stops: readonly string[], from: number): number {
  let best = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop, Math.max(0, from - stop.length));
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}

/** Length of the longest end of `text` that is a proper beginning of some stop sequence. */
function heldForStop(text: string, stops: readonly string[]): number {
  let held = 0;
  for (const stop of stops) {
    for (let n = Math.min(stop.length - 1, text.length); n > held; n--) {
      if (text.endsWith(stop.slice(0, n))) {
        held = n;
        break;
      }
    }
  }
  return held;
}

/** The decoder writes U+FFFD for a trailing partial UTF-8 sequence; hold it until the rest arrives. */
function completeCharacters(text: string): number {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--;
  return end;
}
