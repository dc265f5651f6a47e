import { describe, expect, it } from "@jest/globals";
import OpenAI from "openai";
import { decodeBase64 } from "../../functions/core/embeddings";
import type { UsageRecord } from "../../functions/core/usage";
import { admin, e2ePlatform, newTenant } from "./helpers";

/** The openai SDK against the local platform, as a user points it at modelgate. */
const client = (apiKey: string) => new OpenAI({ baseURL: `${e2ePlatform().url}/v1`, apiKey, maxRetries: 0 });
const TEXTS = ["The captain stood on the deck of the ship.", "On the ship's deck stood the captain.", "I like to eat bread with butter."];
/** The e2e config's list price, 0.02 per million input tokens: 20 nano-units (1e-9) per token. */
const NANO_PER_TOKEN = 20n;

async function records(tenantId: string, since: string): Promise<UsageRecord[]> {
  const res = await admin().request<{ records: UsageRecord[] }>("GET", `/admin/tenants/${tenantId}/usage/records`, undefined, {
    from: since,
    to: new Date(Date.now() + 60_000).toISOString(),
    limit: "100",
  });
  expect({ status: res.status, text: res.text }).toMatchObject({ status: 200 });
  return res.body.records;
}

const nano = (decimal: string) => {
  const [whole, fraction = ""] = decimal.split(".");
  return BigInt(whole as string) * 1_000_000_000n + BigInt(fraction.padEnd(9, "0"));
};
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * (b[i] as number), 0);

describe("embeddings through the openai SDK", () => {
  it("answers float, base64 and the SDK's default alike; one record per request with the engine's tokens, priced exactly", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const t = await newTenant(["tinyembed"], "emb");
    const openai = client(t.apiKey);
    const float = await openai.embeddings.create({ model: "tinyembed", input: TEXTS, encoding_format: "float" });
    const base64 = await openai.embeddings.create({ model: "tinyembed", input: TEXTS, encoding_format: "base64" });
    const byDefault = await openai.embeddings.create({ model: "tinyembed:staging", input: TEXTS });

    expect(float.object).toBe("list");
    expect(float.model).toBe("tinyembed");
    expect(byDefault.model).toBe("tinyembed:staging");
    expect(float.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const vectors = float.data.map((d) => d.embedding);
    for (const v of vectors) expect(v).toHaveLength(64);
    expect(base64.data.map((d) => decodeBase64(d.embedding as unknown as string))).toEqual(vectors);
    // The SDK asks for base64 when told nothing and decodes it; the pool's v2 is the same model.
    expect(byDefault.data.map((d) => Array.from(d.embedding))).toEqual(vectors);
    const [captain, deck, bread] = vectors as [number[], number[], number[]];
    expect(cosine(captain, deck)).toBeGreaterThan(cosine(captain, bread) + 0.2);

    // The tokens come from the engine's tokenizer; every answer reports the same count.
    const tokens = float.usage.prompt_tokens;
    expect(tokens).toBeGreaterThan(TEXTS.length);
    expect(float.usage.total_tokens).toBe(tokens);
    expect(base64.usage).toEqual(float.usage);
    expect(byDefault.usage).toEqual(float.usage);

    const mine = (await records(t.tenantId, since)).filter((r) => r.model === "tinyembed");
    expect(mine).toHaveLength(3);
    expect(mine.map((r) => r.version).sort()).toEqual([1, 1, 2]);
    for (const r of mine) {
      expect(r).toMatchObject({ status: 200, tokens: { input: tokens, output: 0 }, currency: "USD" });
      expect(nano(r.cost as string)).toBe(BigInt(tokens) * NANO_PER_TOKEN);
    }
  });

  it("shortens vectors with `dimensions`, refuses more than the model has, and keeps models to their routes", async () => {
    const t = await newTenant(["tinyembed", "tinylm"], "emb");
    const openai = client(t.apiKey);
    const full = await openai.embeddings.create({ model: "tinyembed", input: "the white whale", encoding_format: "float" });
    const short = await openai.embeddings.create({ model: "tinyembed", input: "the white whale", encoding_format: "float", dimensions: 8 });
    const [v] = short.data.map((d) => d.embedding) as [number[]];
    expect(v).toHaveLength(8);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    const head = (full.data[0]?.embedding ?? []).slice(0, 8);
    expect(cosine(v, head) / Math.hypot(...head)).toBeCloseTo(1, 5);

    await expect(openai.embeddings.create({ model: "tinyembed", input: "x", dimensions: 65 })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    await expect(openai.embeddings.create({ model: "tinylm", input: "x" })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(openai.embeddings.create({ model: "iris", input: "x" })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      openai.chat.completions.create({ model: "tinyembed", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});
