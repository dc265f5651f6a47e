import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINYLM_SHAPE, TINYLM_TRAINING } from "../../infra/local/models/build-tinylm";
import { END_OF_TEXT_ID, learnBpe, tokenizerJson } from "../../infra/local/models/tinylm/bpe-trainer";
import { loadChapters } from "../../infra/local/models/tinylm/corpus";
import { type MlpLmShape, meanLoss, trainMlpLm } from "../../infra/local/models/tinylm/mlp-lm";
import { encodeLmModel } from "../../infra/local/models/tinylm/onnx-lm";

const modelDir = join(import.meta.dirname, "../../models/tinylm/1");
const readJson = async (name: string) => JSON.parse(await readFile(join(modelDir, name), "utf8")) as Record<string, unknown>;

// The full training takes about two minutes, so the committed model is checked piecewise: the
// tokenizer is rebuilt in full, the training and export are rebuilt at a small size twice.
describe("tinylm demo LLM", () => {
  let tokenizer: Tokenizer;
  let chapters: string[];
  let session: InferenceSession;

  beforeAll(async () => {
    tokenizer = new Tokenizer(await readJson("tokenizer.json"), await readJson("tokenizer_config.json"));
    chapters = loadChapters();
    session = await InferenceSession.create(join(modelDir, "model.onnx"));
  });
  afterAll(() => session.release());

  it("ships the tokenizer that counting the training text yields", async () => {
    const rebuilt = tokenizerJson(learnBpe(chapters, TINYLM_SHAPE.vocabSize));
    expect(JSON.parse(JSON.stringify(rebuilt))).toEqual(await readJson("tokenizer.json"));
  });

  it("round-trips text through @huggingface/tokenizers, special token included", () => {
    for (const text of ["Call me Ishmael.", "Once upon a time — naïve “quotes” 123", chapters[0]?.slice(0, 2000) ?? ""]) {
      const { ids } = tokenizer.encode(text);
      expect(ids.every((id) => id >= 0 && id < TINYLM_SHAPE.vocabSize)).toBe(true);
      expect(tokenizer.decode(ids)).toBe(text);
    }
    expect(tokenizer.encode("<|endoftext|>").ids).toEqual([END_OF_TEXT_ID]);
    // Merges were learned: common words are one token, not one per byte.
    expect(tokenizer.encode(" the whale").ids.length).toBeLessThanOrEqual(3);
  });

  it("records the full training configuration it was built with", async () => {
    const config = await readJson("config.json");
    expect(config).toMatchObject({
      vocab_size: TINYLM_SHAPE.vocabSize,
      context_length: TINYLM_SHAPE.context,
      eos_token_id: END_OF_TEXT_ID,
      training: TINYLM_TRAINING,
    });
    const training = config.training as { held_out_loss_start: number; held_out_loss_end: number };
    expect(training.held_out_loss_end).toBeLessThan(training.held_out_loss_start - 1.5);
  });

  it("takes input_ids [batch, seq] and returns logits [batch, seq, vocab]", async () => {
    const ids = tokenizer.encode("Call me Ishmael. Some years ago").ids;
    const out = await session.run({ input_ids: new Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]) });
    expect(out.logits?.dims).toEqual([1, ids.length, TINYLM_SHAPE.vocabSize]);
  });

  it("trains deterministically and exports exactly the function it trained", async () => {
    const shape: MlpLmShape = { vocabSize: TINYLM_SHAPE.vocabSize, context: 4, embedding: 8, hidden: 16 };
    const ids = Int32Array.from(chapters.slice(0, 2).flatMap((c) => tokenizer.encode(c).ids));
    const train = ids.subarray(0, 3000);
    const heldOut = ids.subarray(3000, 3200);
    const build = () => {
      const r = trainMlpLm(train, heldOut, shape, { ...TINYLM_TRAINING, steps: 30, batchSize: 8 });
      return { r, bytes: encodeLmModel({ weights: r.weights, graphName: "t", docString: "t", metadata: [] }) };
    };
    const a = build();
    const b = build();
    const sha = (x: Uint8Array) => createHash("sha256").update(x).digest("hex");
    expect(sha(a.bytes)).toBe(sha(b.bytes));
    expect(a.r.heldOutLossEnd).toBeLessThan(a.r.heldOutLossStart);

    // The ONNX graph (a causal Conv over embeddings) gives the loss the trainer computes in JS.
    const small = await InferenceSession.create(a.bytes);
    try {
      const out = await small.run({ input_ids: new Tensor("int64", BigInt64Array.from(heldOut, BigInt), [1, heldOut.length]) });
      const logits = out.logits?.data as Float32Array;
      let total = 0;
      for (let t = 0; t < heldOut.length - 1; t++) {
        const row = logits.subarray(t * shape.vocabSize, (t + 1) * shape.vocabSize);
        const max = Math.max(...row);
        const logSum = Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0)) + max;
        total += logSum - (row[heldOut[t + 1] as number] as number);
      }
      expect(total / (heldOut.length - 1)).toBeCloseTo(meanLoss(a.r.weights, heldOut), 3);
    } finally {
      await small.release();
    }
  });
});
