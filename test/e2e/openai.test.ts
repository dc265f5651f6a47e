import { describe, expect, it } from "@jest/globals";
import OpenAI from "openai";
import { admin, e2ePlatform, eventually, newTenant } from "./helpers";

/** The openai SDK against the local platform, as a user points it at modelgate. */
const client = (apiKey: string) => new OpenAI({ baseURL: `${e2ePlatform().url}/v1`, apiKey, maxRetries: 0 });
const story = [{ role: "user" as const, content: "Once upon a time" }];

interface Totals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  refused: number;
}
const totalsOf = (tenantId: string) => admin().request<{ totals: Totals }>("GET", `/admin/tenants/${tenantId}/usage`);

async function limitedTenant(limits: Record<string, number>): Promise<{ tenantId: string; apiKey: string }> {
  const tenantId = `oai-${process.pid}-${Date.now().toString(36)}`;
  const created = await admin().request("POST", "/admin/tenants", { tenantId, models: ["tinylm"], limits });
  expect({ status: created.status, text: created.text }).toMatchObject({ status: 201 });
  const key = await admin().request<{ apiKey: string }>("POST", `/admin/tenants/${tenantId}/keys`, {});
  return { tenantId, apiKey: key.body.apiKey };
}

describe("the OpenAI API (openai SDK)", () => {
  it("lists the granted models in OpenAI's shape", async () => {
    const t = await newTenant(["tinylm"]);
    const page = await client(t.apiKey).models.list();
    expect(page.data.map((m) => m.id)).toEqual(["tinylm"]);
    expect(page.data[0]).toMatchObject({ object: "model", owned_by: "modelgate" });
  });

  it("answers chat at temperature 0 the same twice, streamed as not streamed, and bills exactly the tokens it reported", async () => {
    const t = await newTenant(["tinylm"]);
    const openai = client(t.apiKey);
    const ask = () => openai.chat.completions.create({ model: "tinylm", messages: story, max_tokens: 12, temperature: 0 });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices[0]?.message.content).toBeTruthy();
    expect(b.choices[0]?.message.content).toBe(a.choices[0]?.message.content);
    expect(a.model).toBe("tinylm");
    expect(a.usage?.completion_tokens).toBe(12);

    const stream = await openai.chat.completions.create({
      model: "tinylm:prod",
      messages: story,
      max_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
      expect(chunk.model).toBe("tinylm:prod");
    }
    expect(text).toBe(a.choices[0]?.message.content);
    expect(usage).toEqual(a.usage);

    // Without include_usage the client sees no usage chunk; the gateway still bills the engine's count.
    const quiet = await openai.chat.completions.create({ model: "tinylm:1", messages: story, max_tokens: 5, temperature: 0, stream: true });
    let usageChunks = 0;
    for await (const chunk of quiet) if (chunk.usage) usageChunks++;
    expect(usageChunks).toBe(0);

    const reported = [a.usage, b.usage, usage].reduce(
      (n, u) => ({ input: n.input + (u?.prompt_tokens ?? 0), output: n.output + (u?.completion_tokens ?? 0) }),
      { input: 0, output: 0 },
    );
    const totals = await eventually(
      () => totalsOf(t.tenantId),
      (r) => r.body.totals?.requests === 4,
    );
    expect(totals.body.totals.requests).toBe(4);
    expect(totals.body.totals.inputTokens).toBe(reported.input + (usage?.prompt_tokens ?? 0));
    expect(totals.body.totals.outputTokens).toBe(reported.output + 5);
  });

  it("serves text completions, streamed and not", async () => {
    const t = await newTenant(["tinylm"]);
    const openai = client(t.apiKey);
    const whole = await openai.completions.create({ model: "tinylm", prompt: "The whale", max_tokens: 8, temperature: 0 });
    expect(whole.object).toBe("text_completion");
    const stream = await openai.completions.create({ model: "tinylm", prompt: "The whale", max_tokens: 8, temperature: 0, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(whole.choices[0]?.text);
  });

  it("raises the SDK's typed errors: bad key, unknown model, malformed body, refused quota", async () => {
    const t = await newTenant(["tinylm"]);
    await expect(client("mg_live_nope").models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(client(t.apiKey).chat.completions.create({ model: "iris", messages: story })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client(t.apiKey).chat.completions.create({ model: "no-such-model", messages: story })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const bad = await client(t.apiKey)
      .chat.completions.create({ model: "tinylm", messages: [] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: "invalid_request_error" });

    // The first request spends the quota (a reservation never exceeds the quota itself); the next is refused.
    const limited = await limitedTenant({ monthlyTokens: 10 });
    await client(limited.apiKey).chat.completions.create({ model: "tinylm", messages: story, max_tokens: 8 });
    const refused = await client(limited.apiKey)
      .chat.completions.create({ model: "tinylm", messages: story, max_tokens: 8 })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (refused as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(Number(headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(headers.get("x-ratelimit-limit-tokens")).toBe("10");
  });

  it("holds a token quota under 20 concurrent requests: the overshoot is at most one reservation", async () => {
    const quota = 300;
    // Each request reserves its prompt's 16 bytes + max_tokens 16 = 32 tokens.
    const reservation = 32;
    const t = await limitedTenant({ monthlyTokens: quota });
    const openai = client(t.apiKey);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        openai.chat.completions.create({ model: "tinylm", messages: story, max_tokens: 16, temperature: 0 }).catch((e: unknown) => e),
      ),
    );
    const refused = results.filter((r) => r instanceof OpenAI.RateLimitError);
    const served = results.filter((r) => !(r instanceof Error)) as OpenAI.ChatCompletion[];
    expect(refused.length).toBeGreaterThan(0);
    expect(served.length + refused.length).toBe(20);
    const totals = await eventually(
      () => totalsOf(t.tenantId),
      (r) => r.body.totals?.requests === served.length,
    );
    const billed = totals.body.totals.inputTokens + totals.body.totals.outputTokens;
    expect(billed).toBe(served.reduce((n, c) => n + (c.usage?.total_tokens ?? 0), 0));
    expect(billed).toBeLessThanOrEqual(quota + reservation);
  });

  it("streams for real: the first token arrives long before the last is generated", async () => {
    const t = await newTenant(["tinylm-slow"]);
    const started = Date.now();
    const stream = await client(t.apiKey).chat.completions.create({ model: "tinylm-slow", messages: story, max_tokens: 10, stream: true });
    const arrivals: number[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) arrivals.push(Date.now() - started);
    expect(arrivals.length).toBeGreaterThanOrEqual(5);
    // The host waits 100 ms per token: a buffered answer would bring every chunk at the end.
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(500);
  });

  it("bills a client that aborts after the first chunk for what was generated", async () => {
    const t = await newTenant(["tinylm-slow"]);
    const abort = new AbortController();
    const stream = await client(t.apiKey).chat.completions.create(
      { model: "tinylm-slow", messages: story, max_tokens: 15, stream: true },
      { signal: abort.signal },
    );
    let received = 0;
    for await (const chunk of stream) {
      if (!chunk.choices[0]?.delta?.content) continue;
      received++;
      // The client hangs up after the first token; the model goes on to max_tokens.
      abort.abort();
      break;
    }
    expect(received).toBe(1);
    const totals = await eventually(
      () => totalsOf(t.tenantId),
      (r) => r.body.totals?.requests === 1,
      15_000,
    );
    expect(totals.body.totals.requests).toBe(1);
    expect(totals.body.totals.outputTokens).toBe(15);
    expect(totals.body.totals.inputTokens).toBeGreaterThan(0);
  });
});
