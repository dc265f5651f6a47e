import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { ModelLoadError } from "../errors";
import { LmTokenizer } from "./tokenizer";

/** The fields of config.json the runtime needs. */
export interface LmConfig {
  readonly vocabSize: number;
  /** Tokens the model looks back; the runtime feeds at most this many per step. */
  readonly contextLength: number;
  /** Prompt plus completion tokens one request may use. */
  readonly maxSequenceLength: number;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
}

/** generation_config.json: what a request that names no sampling settings gets. */
export interface GenerationDefaults {
  readonly temperature: number;
  readonly topP: number;
  readonly maxNewTokens: number;
}

/**
 * A causal LM in Hugging Face layout (config.json, tokenizer files, model.onnx taking
 * `input_ids` int64 [batch, seq] and returning `logits` float32 [batch, seq, vocab]) loaded
 * into one onnxruntime session. No KV cache: each step feeds the last `contextLength` tokens.
 */
export class LmEngine {
  private constructor(
    private readonly session: InferenceSession,
    readonly tokenizer: LmTokenizer,
    readonly config: LmConfig,
    readonly defaults: GenerationDefaults,
  ) {}

  static async load(modelDir: string, intraOpNumThreads = 1): Promise<LmEngine> {
    const modelPath = join(modelDir, "model.onnx");
    try {
      const raw = JSON.parse(await readFile(join(modelDir, "config.json"), "utf8")) as Record<string, unknown>;
      const config = readConfig(raw);
      const tokenizer = await LmTokenizer.load(modelDir);
      const defaults = await readGenerationDefaults(modelDir);
      const session = await InferenceSession.create(modelPath, { intraOpNumThreads });
      if (!session.inputNames.includes("input_ids") || !session.outputNames.includes("logits")) {
        await session.release();
        throw new Error(`expects input 'input_ids' and output 'logits', has ${session.inputNames} -> ${session.outputNames}`);
      }
      return new LmEngine(session, tokenizer, config, defaults);
    } catch (err) {
      throw new ModelLoadError(modelPath, err);
    }
  }

  /** The logits for the token after `ids` (the last position of one forward pass). */
  async nextLogits(ids: readonly number[]): Promise<Float32Array> {
    const window = ids.length === 0 ? [this.config.bosTokenId] : ids.slice(-this.config.contextLength);
    const input = new Tensor("int64", BigInt64Array.from(window, BigInt), [1, window.length]);
    const { logits } = await this.session.run({ input_ids: input }, ["logits"]);
    if (!logits) throw new Error("the model returned no 'logits'");
    const vocab = this.config.vocabSize;
    const data = logits.data as Float32Array;
    return data.slice((window.length - 1) * vocab, window.length * vocab);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function readConfig(raw: Record<string, unknown>): LmConfig {
  const int = (name: string, fallback?: number): number => {
    const v = raw[name] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new Error(`config.json: '${name}' must be a non-negative integer`);
    return v;
  };
  const contextLength = int("context_length", typeof raw.max_position_embeddings === "number" ? raw.max_position_embeddings : undefined);
  return {
    vocabSize: int("vocab_size"),
    contextLength,
    maxSequenceLength: int("max_sequence_length", contextLength),
    bosTokenId: int("bos_token_id"),
    eosTokenId: int("eos_token_id"),
  };
}

/** OpenAI's defaults (temperature 1, top_p 1) where the model ships no generation_config.json. */
async function readGenerationDefaults(modelDir: string): Promise<GenerationDefaults> {
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(await readFile(join(modelDir, "generation_config.json"), "utf8")) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const num = (v: unknown, fallback: number) => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
  return { temperature: num(raw.temperature, 1), topP: num(raw.top_p, 1), maxNewTokens: num(raw.max_new_tokens, 64) };
}
