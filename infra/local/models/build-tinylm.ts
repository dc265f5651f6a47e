/**
 * Builds the demo LLM `tinylm` and writes it in the layout of an exported Hugging Face model:
 *   models/tinylm/1/config.json             architecture, vocabulary size, context, special token ids
 *   models/tinylm/1/tokenizer.json          byte-level BPE (GPT-2 layout), learned on the training text
 *   models/tinylm/1/tokenizer_config.json   special tokens and the chat format the runtime applies
 *   models/tinylm/1/generation_config.json  default sampling settings
 *   models/tinylm/1/model.onnx              input_ids int64 [batch, seq] -> logits float32 [batch, seq, vocab]
 * Training is deterministic (seeded, fixed order, nothing downloaded): two runs give identical bytes.
 *
 * Usage: npm run models (after iris) or: tsx infra/local/models/build-tinylm.ts [output root, default ./models]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import { END_OF_TEXT, END_OF_TEXT_ID, learnBpe, tokenizerJson } from "./tinylm/bpe-trainer";
import { CORPUS_NAME, loadChapters } from "./tinylm/corpus";
import { type MlpLmShape, parameterCount, type TrainLmOptions, trainMlpLm } from "./tinylm/mlp-lm";
import { encodeLmModel } from "./tinylm/onnx-lm";

export const TINYLM_MODEL_NAME = "tinylm";

export const TINYLM_SHAPE: MlpLmShape = { vocabSize: 512, context: 8, embedding: 32, hidden: 128 };
export const TINYLM_TRAINING: TrainLmOptions = { steps: 3000, batchSize: 32, learningRate: 3e-3, seed: 7, shortContextRate: 0.1 };
/** The last 2% of the token stream is held out; its first positions measure the loss. */
const HELD_OUT_SHARE = 0.02;
const HELD_OUT_POSITIONS = 4000;
/** Prompt plus completion tokens one request may use (the model itself only looks back `context` tokens). */
const MAX_SEQUENCE_LENGTH = 1024;

/**
 * How the runtime turns chat messages into a prompt: each message as `{role}: {content}\n`
 * with the role capitalised, then the generation prompt. A plain format rather than a Jinja
 * chat_template, so the runtime needs no template engine.
 */
const CHAT_FORMAT = {
  message: "{Role}: {content}\n",
  generation_prompt: "Assistant:",
} as const;

export interface BuiltLm {
  readonly dir: string;
  readonly parameterCount: number;
  readonly onnxBytes: number;
  readonly heldOutLossStart: number;
  readonly heldOutLossEnd: number;
  readonly trainingTokens: number;
  readonly seconds: number;
}

export async function buildTinyLm(outRoot: string, training: TrainLmOptions = TINYLM_TRAINING): Promise<BuiltLm> {
  const started = performance.now();
  const chapters = loadChapters();
  const bpe = learnBpe(chapters, TINYLM_SHAPE.vocabSize);
  const tokenizerFile = tokenizerJson(bpe);
  // The training ids come from the library loading the very file we ship, so they cannot drift apart.
  const tokenizer = new Tokenizer(tokenizerFile, { clean_up_tokenization_spaces: false });
  const ids: number[] = [];
  for (const chapter of chapters) ids.push(...tokenizer.encode(chapter).ids, END_OF_TEXT_ID);
  const stream = Int32Array.from(ids);
  const cut = Math.floor(stream.length * (1 - HELD_OUT_SHARE));
  const result = trainMlpLm(stream.subarray(0, cut), stream.subarray(cut, cut + HELD_OUT_POSITIONS), TINYLM_SHAPE, training);
  const params = parameterCount(TINYLM_SHAPE);
  const description = `fixed-context MLP language model (Bengio et al. 2003): ${TINYLM_SHAPE.context} previous tokens x ${TINYLM_SHAPE.embedding}-d embeddings -> ${TINYLM_SHAPE.hidden} tanh -> ${TINYLM_SHAPE.vocabSize} logits`;
  const onnxBytes = encodeLmModel({
    weights: result.weights,
    graphName: `${TINYLM_MODEL_NAME}_v1`,
    docString: `modelgate demo LLM '${TINYLM_MODEL_NAME}': ${description}. Input 'input_ids' int64 [batch, seq]; output 'logits' float32 [batch, seq, ${TINYLM_SHAPE.vocabSize}].`,
    metadata: [
      ["model", TINYLM_MODEL_NAME],
      ["architecture", description],
      ["corpus", CORPUS_NAME],
      ["training", JSON.stringify(training)],
      ["held_out_loss_start", result.heldOutLossStart.toFixed(4)],
      ["held_out_loss_end", result.heldOutLossEnd.toFixed(4)],
    ],
  });
  const config = {
    model_type: "modelgate-mlp-lm",
    architectures: ["MlpLanguageModel"],
    vocab_size: TINYLM_SHAPE.vocabSize,
    context_length: TINYLM_SHAPE.context,
    embedding_size: TINYLM_SHAPE.embedding,
    hidden_size: TINYLM_SHAPE.hidden,
    max_sequence_length: MAX_SEQUENCE_LENGTH,
    bos_token_id: END_OF_TEXT_ID,
    eos_token_id: END_OF_TEXT_ID,
    parameter_count: params,
    training: {
      corpus: CORPUS_NAME,
      tokens: cut,
      ...training,
      held_out_loss_start: round4(result.heldOutLossStart),
      held_out_loss_end: round4(result.heldOutLossEnd),
    },
  };
  const tokenizerConfig = {
    tokenizer_class: "GPT2Tokenizer",
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    model_max_length: MAX_SEQUENCE_LENGTH,
    clean_up_tokenization_spaces: false,
    chat_format: CHAT_FORMAT,
  };
  const generationConfig = {
    bos_token_id: END_OF_TEXT_ID,
    eos_token_id: END_OF_TEXT_ID,
    do_sample: true,
    temperature: 1.0,
    top_p: 1.0,
    max_new_tokens: 64,
  };

  const dir = join(outRoot, TINYLM_MODEL_NAME, "1");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), json(config));
  await writeFile(join(dir, "tokenizer.json"), json(tokenizerFile));
  await writeFile(join(dir, "tokenizer_config.json"), json(tokenizerConfig));
  await writeFile(join(dir, "generation_config.json"), json(generationConfig));
  await writeFile(join(dir, "model.onnx"), onnxBytes);
  return {
    dir,
    parameterCount: params,
    onnxBytes: onnxBytes.length,
    heldOutLossStart: result.heldOutLossStart,
    heldOutLossEnd: result.heldOutLossEnd,
    trainingTokens: cut,
    seconds: (performance.now() - started) / 1000,
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
  const outRoot = resolve(process.argv[2] ?? join(repoRoot, "models"));
  const m = await buildTinyLm(outRoot);
  console.log(
    `tinylm v1: ${m.dir} ${m.parameterCount} parameters, model.onnx ${(m.onnxBytes / 1024).toFixed(0)} KiB, held-out loss ${m.heldOutLossStart.toFixed(3)} -> ${m.heldOutLossEnd.toFixed(3)} nats/token, ${m.trainingTokens} training tokens, ${m.seconds.toFixed(1)} s`,
  );
}
