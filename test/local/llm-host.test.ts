import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { routeAttribute } from "../../functions/contract/upstream-route";
import { type LlmModelHost, startLlmModelHost } from "../../infra/local/model-host/index";

const modelDir = join(import.meta.dirname, "../../models/tinylm/1");

interface Completion {
  object: string;
  model: string;
  choices: { text?: string; message?: { role: string; content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe("LLM model host (LMI contract) serving tinylm", () => {
  let host: LlmModelHost;
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    host = await startLlmModelHost({ modelDir, modelName: "tinylm", version: 1 });
    const file = async (name: string) => JSON.parse(await readFile(join(modelDir, name), "utf8")) as object;
    tokenizer = new Tokenizer(await file("tokenizer.json"), await file("tokenizer_config.json"));
  });
  afterAll(() => host.close());

  const post = async (body: unknown, path = "/invocations") => {
    const res = await fetch(`${host.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
  };
  const complete = async (body: object, path?: string) => {
    const res = await post(body, path);
    expect({ status: res.status, text: res.text }).toMatchObject({ status: 200 });
    return JSON.parse(res.text) as Completion;
  };
  /** The SSE stream's JSON chunks, in order, checking the framing on the way. */
  const streamChunks = async (body: object) => {
    const res = await post({ ...body, stream: true });
    expect(res.status).toBe(200);
    expect(res.type).toBe("text/event-stream");
    const events = res.text.split("\n\n").filter((e) => e !== "");
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events.at(-1)).toBe("data: [DONE]");
    return events
      .slice(0, -1)
      .map((e) => JSON.parse(e.slice("data: ".length)) as Completion & { choices: { delta?: { content?: string } }[] });
  };

  it("serves /invocations as the route named in X-Amzn-SageMaker-Custom-Attributes, refusing embeddings", async () => {
    const send = async (route: Parameters<typeof routeAttribute>[0], body: object) => {
      const res = await fetch(`${host.url}/invocations`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-amzn-sagemaker-custom-attributes": routeAttribute(route) },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as { object?: string } };
    };
    // Named a completion, a body that also carries `messages` is still a completion.
    const completion = await send("/v1/completions", { prompt: "The whale", messages: [], max_tokens: 2, temperature: 0 });
    expect(completion).toMatchObject({ status: 200, json: { object: "text_completion" } });
    expect((await send("/v1/embeddings", { input: "The whale" })).status).toBe(400);
  });

  it("answers /ping", async () => {
    expect((await fetch(`${host.url}/ping`)).status).toBe(200);
  });

  it("greedy decoding (temperature 0) gives the same completion every time", async () => {
    const body = { prompt: "Once upon a time", max_tokens: 24, temperature: 0 };
    const [a, b] = [await complete(body), await complete(body)];
    expect(a.object).toBe("text_completion");
    expect(a.choices[0]?.text?.length).toBeGreaterThan(0);
    expect(b.choices[0]?.text).toBe(a.choices[0]?.text);
  });

  it("seeded sampling: the same seed repeats, another seed differs", async () => {
    const body = { prompt: "The whale", max_tokens: 24, temperature: 1, top_p: 0.95 };
    const [a, b, c] = [await complete({ ...body, seed: 11 }), await complete({ ...body, seed: 11 }), await complete({ ...body, seed: 12 })];
    expect(b.choices[0]?.text).toBe(a.choices[0]?.text);
    expect(c.choices[0]?.text).not.toBe(a.choices[0]?.text);
  });

  it("max_tokens ends with finish_reason length and exactly that many completion tokens", async () => {
    const res = await complete({ prompt: "Call me Ishmael.", max_tokens: 7, temperature: 0 });
    expect(res.choices[0]?.finish_reason).toBe("length");
    expect(res.usage.completion_tokens).toBe(7);
    expect(res.usage.total_tokens).toBe(res.usage.prompt_tokens + 7);
  });

  it("stops before a stop sequence and leaves it out", async () => {
    const free = (await complete({ prompt: "Call me Ishmael.", max_tokens: 40, temperature: 0 })).choices[0]?.text ?? "";
    // A stop sequence taken from the free-running text: the completion must end right before it.
    const stop = free.slice(8, 12);
    const stopped = await complete({ prompt: "Call me Ishmael.", max_tokens: 40, temperature: 0, stop: [stop, "\u0001never"] });
    expect(stopped.choices[0]?.finish_reason).toBe("stop");
    expect(stopped.choices[0]?.text).toBe(free.slice(0, free.indexOf(stop)));
    expect(stopped.usage.completion_tokens).toBeLessThan(40);
  });

  it("chat: applies the chat format, and prompt_tokens is the tokenizer's count of it", async () => {
    const messages = [
      { role: "system", content: "You tell sea stories." },
      { role: "user", content: "Tell me about the whale." },
    ];
    const res = await complete({ messages, max_tokens: 5, temperature: 0 });
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]?.message?.role).toBe("assistant");
    const templated = "System: You tell sea stories.\nUser: Tell me about the whale.\nAssistant:";
    expect(res.usage.prompt_tokens).toBe(tokenizer.encode(templated).ids.length);
    const plain = await complete({ prompt: "Once", max_tokens: 1 });
    expect(plain.usage.prompt_tokens).toBe(tokenizer.encode("Once").ids.length);
  });

  it("streams chat chunks that add up to the non-streamed answer, usage last", async () => {
    const body = { messages: [{ role: "user", content: "Call me Ishmael." }], max_tokens: 20, temperature: 0 };
    const whole = await complete(body);
    const chunks = await streamChunks({ ...body, stream_options: { include_usage: true } });
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe(whole.choices[0]?.message?.content);
    const usage = chunks.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage).toEqual(whole.usage);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("length");
  });

  it("streams completions as text_completion chunks, no usage chunk unless asked", async () => {
    const body = { prompt: "Once upon a time", max_tokens: 12, temperature: 0 };
    const whole = await complete(body);
    const chunks = await streamChunks(body);
    expect(chunks.every((c) => c.object === "text_completion" && c.choices.length === 1 && c.usage === undefined)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe(whole.choices[0]?.text);
  });

  it("serves the same bodies on vLLM's own OpenAI routes", async () => {
    const chat = await complete({ model: "tinylm", messages: [{ role: "user", content: "Hi" }], max_tokens: 3 }, "/v1/chat/completions");
    expect(chat.object).toBe("chat.completion");
    const text = await complete({ prompt: "Hi", max_tokens: 3 }, "/v1/completions");
    expect(text.object).toBe("text_completion");
  });

  it.each([
    ["not JSON", "{"],
    ["neither messages nor prompt", { max_tokens: 3 }],
    ["empty messages", { messages: [] }],
    ["a message without a role", { messages: [{ content: "hi" }] }],
    ["a negative temperature", { prompt: "x", temperature: -1 }],
    ["max_tokens 0", { prompt: "x", max_tokens: 0 }],
    ["a numeric stop", { prompt: "x", stop: 5 }],
    ["more than the context budget", { prompt: "x", max_tokens: 100_000 }],
  ])("answers 400 in OpenAI's error shape for %s", async (_label, body) => {
    const res = await fetch(`${host.url}/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { message: string; type: string; code: number } };
    expect(json.error).toMatchObject({ type: "BadRequestError", code: 400 });
    expect(json.error.message.length).toBeGreaterThan(0);
  });
});
