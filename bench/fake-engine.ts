import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake OpenAI-compatible engine for the streaming benchmark: `POST /v1/chat/completions`
 * answers a streamed request as vLLM's server does (SSE `data:` chunks, one token each, then
 * the usage chunk when `stream_options.include_usage` asks for it, then `[DONE]`), emitting
 * `max_tokens` tokens one every `intervalMs`, as a GPU engine paces its decode steps. It does
 * no work of its own beyond writing them, so the engine-direct path is the floor a relay is
 * measured against. Run as a child process (`tsx bench/fake-engine.ts`): it reports its URL
 * over IPC, and its CPU is not the platform's.
 */
export async function startFakeEngine(intervalMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "fake", object: "model" }] }));
      return;
    }
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => answer(req, res, Buffer.concat(parts), intervalMs));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface ChatBody {
  readonly max_tokens?: number;
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
  readonly messages?: unknown[];
}

let served = 0;

function answer(_req: IncomingMessage, res: ServerResponse, raw: Buffer, intervalMs: number): void {
  let body: ChatBody;
  try {
    body = JSON.parse(raw.toString("utf8")) as ChatBody;
  } catch {
    res.writeHead(400, { "content-type": "application/json" });
    res.end('{"error":{"message":"not JSON","type":"invalid_request_error"}}');
    return;
  }
  const tokens = body.max_tokens ?? 16;
  const promptTokens = 12;
  const id = `chatcmpl-fake-${++served}`;
  const created = Math.floor(Date.now() / 1000);
  const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"fake-engine","choices":[{"index":0,"delta":`;
  if (!body.stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id,
        object: "chat.completion",
        created,
        model: "fake-engine",
        choices: [{ index: 0, message: { role: "assistant", content: "tok ".repeat(tokens) }, finish_reason: "length" }],
        usage: { prompt_tokens: promptTokens, completion_tokens: tokens, total_tokens: promptTokens + tokens },
      }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  let sent = 0;
  const tick = () => {
    if (res.destroyed) return;
    sent++;
    const last = sent === tokens;
    res.write(`data: ${head}{"content":"tok${sent} "},"logprobs":null,"finish_reason":${last ? '"length"' : "null"}}]}\n\n`);
    if (!last) return void setTimeout(tick, intervalMs);
    if (body.stream_options?.include_usage)
      res.write(
        `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"fake-engine","choices":[],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":${tokens},"total_tokens":${promptTokens + tokens}}}\n\n`,
      );
    res.end("data: [DONE]\n\n");
  };
  // The first token after one decode step, as the rest.
  setTimeout(tick, intervalMs);
}

if (process.send) {
  const engine = await startFakeEngine(Number(process.env.FAKE_ENGINE_INTERVAL_MS ?? 20));
  process.send({ url: engine.url });
  process.on("disconnect", () => process.exit(0));
}
