/**
 * Builds the demo embedding model `tinyembed` in the layout of an exported Hugging Face model:
 *   models/tinyembed/1/config.json            task, dimensions, vocabulary, training summary
 *   models/tinyembed/1/tokenizer.json         tinylm's byte-level BPE (the same file, learned the same way)
 *   models/tinyembed/1/tokenizer_config.json  special tokens, maximum input length
 *   models/tinyembed/1/model.onnx             input_ids int64 [batch, seq] -> embeddings float32 [batch, D], unit length
 * The model is latent semantic analysis over tinylm's tokens on the same text (Moby-Dick):
 * counting and one eigen-decomposition, deterministic, nothing downloaded; two runs give
 * identical bytes. It measures shared and co-occurring vocabulary, not meaning (docs/embeddings.md).
 *
 * Usage: npm run models or: tsx infra/local/models/build-tinyembed.ts [output root, default ./models]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import { TINYLM_SHAPE } from "./build-tinylm";
import { type LsaOptions, trainLsa } from "./tinyembed/lsa";
import { encodeEmbeddingModel } from "./tinyembed/onnx-embed";
import { END_OF_TEXT, learnBpe, tokenizerJson } from "./tinylm/bpe-trainer";
import { CORPUS_NAME, loadChapters } from "./tinylm/corpus";

export const TINYEMBED_MODEL_NAME = "tinyembed";
/** 64 latent dimensions from 100-token passages: the smallest settings that still tell the test sentences apart (docs/embeddings.md). */
export const TINYEMBED_LSA: LsaOptions = { vocabSize: TINYLM_SHAPE.vocabSize, rank: 64, passageTokens: 100 };
/** Tokens one input may have: a bag of tokens has no context window, this only bounds the work. */
export const TINYEMBED_MAX_INPUT_TOKENS = 8192;

export interface BuiltEmbed {
  readonly dir: string;
  readonly onnxBytes: number;
  readonly passages: number;
  readonly seconds: number;
}

export async function buildTinyEmbed(outRoot: string): Promise<BuiltEmbed> {
  const started = performance.now();
  const chapters = loadChapters();
  // tinylm's vocabulary, learned again from the same text (identical file; see the tinylm test).
  const tokenizerFile = tokenizerJson(learnBpe(chapters, TINYLM_SHAPE.vocabSize));
  const tokenizer = new Tokenizer(tokenizerFile, { clean_up_tokenization_spaces: false });
  const documents = chapters.map((c) => tokenizer.encode(c).ids);
  const lsa = trainLsa(documents, TINYEMBED_LSA);
  const description = `latent semantic analysis over ${TINYEMBED_LSA.vocabSize} BPE tokens: sum of per-token ${TINYEMBED_LSA.rank}-d vectors (idf x left singular vectors / singular value), L2-normalised`;
  const onnxBytes = encodeEmbeddingModel({
    table: lsa.table,
    vocabSize: TINYEMBED_LSA.vocabSize,
    dimensions: TINYEMBED_LSA.rank,
    graphName: `${TINYEMBED_MODEL_NAME}_v1`,
    docString: `modelgate demo embedding model '${TINYEMBED_MODEL_NAME}': ${description}. Input 'input_ids' int64 [batch, seq]; output 'embeddings' float32 [batch, ${TINYEMBED_LSA.rank}].`,
    metadata: [
      ["model", TINYEMBED_MODEL_NAME],
      ["architecture", description],
      ["corpus", CORPUS_NAME],
      ["training", JSON.stringify({ ...TINYEMBED_LSA, passages: lsa.passages })],
    ],
  });
  const config = {
    model_type: "modelgate-lsa-embedding",
    architectures: ["BagOfTokensEmbeddingModel"],
    task: "embedding",
    vocab_size: TINYEMBED_LSA.vocabSize,
    hidden_size: TINYEMBED_LSA.rank,
    max_sequence_length: TINYEMBED_MAX_INPUT_TOKENS,
    // Components come largest singular value first: the first k are the rank-k model.
    truncatable_dimensions: true,
    training: {
      corpus: CORPUS_NAME,
      method: "LSA (tf-idf, log tf) over passages",
      ...TINYEMBED_LSA,
      passages: lsa.passages,
      top_singular_values: lsa.singularValues.slice(0, 4).map((s) => Math.round(s * 1e4) / 1e4),
    },
  };
  const tokenizerConfig = {
    tokenizer_class: "GPT2Tokenizer",
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    model_max_length: TINYEMBED_MAX_INPUT_TOKENS,
    clean_up_tokenization_spaces: false,
  };
  const dir = join(outRoot, TINYEMBED_MODEL_NAME, "1");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), json(config));
  await writeFile(join(dir, "tokenizer.json"), json(tokenizerFile));
  await writeFile(join(dir, "tokenizer_config.json"), json(tokenizerConfig));
  await writeFile(join(dir, "model.onnx"), onnxBytes);
  return { dir, onnxBytes: onnxBytes.length, passages: lsa.passages, seconds: (performance.now() - started) / 1000 };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
  const outRoot = resolve(process.argv[2] ?? join(repoRoot, "models"));
  const m = await buildTinyEmbed(outRoot);
  console.log(
    `tinyembed v1: ${m.dir} model.onnx ${(m.onnxBytes / 1024).toFixed(0)} KiB, ${m.passages} passages, ${m.seconds.toFixed(1)} s`,
  );
}
