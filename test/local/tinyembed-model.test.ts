import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { routeAttribute } from "../../functions/contract/upstream-route";
import { type EmbeddingModelHost, isEmbeddingModelDir, startEmbeddingModelHost } from "../../infra/local/model-host/index";
import { buildTinyEmbed, TINYEMBED_LSA } from "../../infra/local/models/build-tinyembed";
import { symmetricEigen } from "../../infra/local/models/tinyembed/lsa";

const modelDir = join(import.meta.dirname, "../../models/tinyembed/1");

/**
 * Sentence triples the model really separates: the first two share or co-occur in vocabulary,
 * the third shares little with either. tinyembed is LSA over Moby-Dick's BPE tokens, so this
 * is lexical and topical closeness, not paraphrase understanding (docs/embeddings.md).
 */
const SIMILARITY_TRIPLES: readonly (readonly [string, string, string])[] = [
  ["The captain stood on the deck of the ship.", "On the ship's deck stood the captain.", "I like to eat bread with butter."],
  [
    "The sailors rowed the boat toward the harpooned whale.",
    "Sailors in the boat rowed toward the whale.",
    "My computer needs a new keyboard.",
  ],
  ["The harpooneer threw his harpoon at the whale.", "A harpoon struck the whale.", "The children played in the garden."],
  ["Call me Ishmael.", "My name is Ishmael.", "The weather is cold and rainy."],
];

const cosine = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

describe("tinyembed and the embedding model host", () => {
  let host: EmbeddingModelHost;
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    host = await startEmbeddingModelHost({ modelDir, modelName: "tinyembed", version: 1 });
    const file = async (name: string) => JSON.parse(await readFile(join(modelDir, name), "utf8")) as object;
    tokenizer = new Tokenizer(await file("tokenizer.json"), await file("tokenizer_config.json"));
  });
  afterAll(() => host.close());

  const post = async (body: unknown, path = "/v1/embeddings", headers: Record<string, string> = {}) => {
    const res = await fetch(`${host.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      json: (await res.json()) as { data: { index: number; embedding: number[] }[]; usage: { prompt_tokens: number } },
    };
  };
  const embed = async (input: string[]) => (await post({ model: "tinyembed", input })).json.data.map((d) => d.embedding);

  it("is an embedding model directory, and the tinylm directory is not", async () => {
    expect(await isEmbeddingModelDir(modelDir)).toBe(true);
    expect(await isEmbeddingModelDir(join(modelDir, "../../tinylm/1"))).toBe(false);
  });

  it("scores similar sentences closer than unrelated ones", async () => {
    for (const [a, b, unrelated] of SIMILARITY_TRIPLES) {
      const [va, vb, vu] = (await embed([a, b, unrelated])) as [number[], number[], number[]];
      const similar = cosine(va, vb);
      expect(similar).toBeGreaterThan(cosine(va, vu) + 0.2);
      expect(similar).toBeGreaterThan(cosine(vb, vu) + 0.2);
    }
  });

  it("answers unit vectors of 64 in input order with the tokenizer's own token counts, for text and token ids alike", async () => {
    const texts = ["Call me Ishmael.", "The whale"];
    const res = await post({ model: "tinyembed", input: texts });
    expect(res.status).toBe(200);
    expect(res.json.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of res.json.data) {
      expect(d.embedding).toHaveLength(TINYEMBED_LSA.rank);
      expect(Math.hypot(...d.embedding)).toBeCloseTo(1, 5);
    }
    const ids = texts.map((t) => tokenizer.encode(t).ids);
    expect(res.json.usage.prompt_tokens).toBe(ids.reduce((n, i) => n + i.length, 0));
    const byIds = await post({ model: "tinyembed", input: ids });
    expect(byIds.json.data.map((d) => d.embedding)).toEqual(res.json.data.map((d) => d.embedding));
  });

  it("serves /invocations for the embeddings route and refuses another route or a bad input as a 400", async () => {
    const routed = await post({ input: "whale" }, "/invocations", {
      "x-amzn-sagemaker-custom-attributes": routeAttribute("/v1/embeddings"),
    });
    expect(routed.status).toBe(200);
    const chat = await post({ input: "whale" }, "/invocations", {
      "x-amzn-sagemaker-custom-attributes": routeAttribute("/v1/chat/completions"),
    });
    expect(chat.status).toBe(400);
    expect((await post({ input: [[512]] })).status).toBe(400);
    expect((await post({ input: [] })).status).toBe(400);
  });

  it("is rebuilt byte for byte by the build script", async () => {
    const out = join(tmpdir(), `tinyembed-${process.pid}`);
    await buildTinyEmbed(out);
    for (const name of ["model.onnx", "tokenizer.json", "config.json", "tokenizer_config.json"]) {
      expect(await readFile(join(out, "tinyembed", "1", name))).toEqual(await readFile(join(modelDir, name)));
    }
  }, 120_000);

  it("decomposes a symmetric matrix into its eigenpairs", () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect([...values].sort()).toEqual([expect.closeTo(1, 9), expect.closeTo(3, 9)]);
    // A·v = λ·v for each column.
    for (let k = 0; k < 2; k++) {
      const [x, y] = [vectors[k] as number, vectors[2 + k] as number];
      expect(2 * x + y).toBeCloseTo((values[k] as number) * x, 9);
    }
  });
});
