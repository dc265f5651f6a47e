import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { ModelLoadError } from "../errors";

/** The fields of an embedding model's config.json the runtime needs. */
export interface EmbedConfig {
  readonly vocabSize: number;
  readonly dimensions: number;
  /** Tokens one input may have. */
  readonly maxSequenceLength: number;
}

/** Whether a Hugging Face style directory holds an embedding model (config.json `task: "embedding"`). */
export async function isEmbeddingModelDir(modelDir: string): Promise<boolean> {
  try {
    const raw = JSON.parse(await readFile(join(modelDir, "config.json"), "utf8")) as Record<string, unknown>;
    return raw.task === "embedding";
  } catch {
    return false;
  }
}

/**
 * A sentence-embedding model in Hugging Face layout (config.json, tokenizer.json,
 * model.onnx taking `input_ids` int64 [batch, seq] and returning `embeddings` float32
 * [batch, D], already pooled and normalised) in one onnxruntime session. Texts are tokenised
 * by the model's own tokenizer, so the token counts reported are the model's.
 */
export class EmbedEngine {
  private constructor(
    private readonly session: InferenceSession,
    private readonly tokenizer: Tokenizer,
    readonly config: EmbedConfig,
  ) {}

  static async load(modelDir: string, intraOpNumThreads = 1): Promise<EmbedEngine> {
    const modelPath = join(modelDir, "model.onnx");
    try {
      const raw = JSON.parse(await readFile(join(modelDir, "config.json"), "utf8")) as Record<string, unknown>;
      const int = (name: string): number => {
        const v = raw[name];
        if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new Error(`config.json: '${name}' must be a positive integer`);
        return v;
      };
      const config = { vocabSize: int("vocab_size"), dimensions: int("hidden_size"), maxSequenceLength: int("max_sequence_length") };
      const [tokenizerJson, tokenizerConfig] = await Promise.all([
        readFile(join(modelDir, "tokenizer.json"), "utf8"),
        readFile(join(modelDir, "tokenizer_config.json"), "utf8"),
      ]);
      const tokenizer = new Tokenizer(JSON.parse(tokenizerJson), JSON.parse(tokenizerConfig));
      const session = await InferenceSession.create(modelPath, { intraOpNumThreads });
      if (!session.inputNames.includes("input_ids") || !session.outputNames.includes("embeddings")) {
        await session.release();
        throw new Error(`expects input 'input_ids' and output 'embeddings', has ${session.inputNames} -> ${session.outputNames}`);
      }
      return new EmbedEngine(session, tokenizer, config);
    } catch (err) {
      throw new ModelLoadError(modelPath, err);
    }
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** One unit vector per token sequence; each runs alone, so no padding or mask is needed. */
  async embed(ids: readonly number[]): Promise<number[]> {
    const input = new Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const { embeddings } = await this.session.run({ input_ids: input }, ["embeddings"]);
    if (!embeddings) throw new Error("the model returned no 'embeddings'");
    // A text of tokens the model has no vector for sums to zero; normalising that gives NaN in some runtimes.
    return Array.from(embeddings.data as Float32Array, (x) => (Number.isFinite(x) ? x : 0));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
