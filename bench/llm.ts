import { median } from "./load";

/** One streamed completion as a client sees it. */
interface StreamTiming {
  readonly ttftMs: number;
  readonly totalMs: number;
  readonly tokens: number;
}

export interface LlmPathResult {
  readonly ttftMs: number;
  readonly totalMs: number;
  readonly tokensPerSecond: number;
  readonly errors: number;
}

export interface LlmTarget {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends one streamed request and times it: first content chunk (time to first token), the end,
 * and the completion tokens the usage chunk reports (content chunks when it is missing).
 */
async function timedStream(target: LlmTarget): Promise<StreamTiming | undefined> {
  const t0 = performance.now();
  const res = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body });
  if (!res.ok || !res.body) return undefined;
  const text = new TextDecoder();
  let buffered = "";
  let first: number | undefined;
  let contentChunks = 0;
  let usageTokens: number | undefined;
  for await (const part of res.body) {
    buffered += text.decode(part, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const raw of lines) {
      const line = raw.startsWith("data:") ? raw.slice(5).trim() : raw.trim();
      if (!line || line === "[DONE]") continue;
      const chunk = JSON.parse(line) as { choices?: Array<{ delta?: { content?: string } }>; usage?: { completion_tokens?: number } };
      if (chunk.usage?.completion_tokens !== undefined) usageTokens = chunk.usage.completion_tokens;
      if (chunk.choices?.some((c) => c.delta?.content)) {
        first ??= performance.now();
        contentChunks++;
      }
    }
  }
  const end = performance.now();
  if (first === undefined) return undefined;
  return { ttftMs: first - t0, totalMs: end - t0, tokens: usageTokens ?? contentChunks };
}

/** `requests` streamed completions one after another on `target`; medians. */
export async function measureLlm(target: LlmTarget, requests: number): Promise<LlmPathResult> {
  const timings: StreamTiming[] = [];
  let errors = 0;
  for (let i = 0; i < requests; i++) {
    const t = await timedStream(target);
    if (t) timings.push(t);
    else errors++;
  }
  return {
    ttftMs: median(timings.map((t) => t.ttftMs)),
    totalMs: median(timings.map((t) => t.totalMs)),
    // Decode speed after the first token, as LLM benchmarks report it.
    tokensPerSecond: median(timings.map((t) => (t.tokens - 1) / Math.max(1e-3, (t.totalMs - t.ttftMs) / 1000))),
    errors,
  };
}

/** The streamed chat body for the gateway (`model` picks tinylm) and for the container itself. */
export function llmBody(maxTokens: number): string {
  return JSON.stringify({
    model: "tinylm",
    messages: [{ role: "user", content: "Once upon a time" }],
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
}
