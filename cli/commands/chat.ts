import type { Command } from "commander";
import { toApiResponse } from "../api-client";
import { KEY_OPTION_HELP, resolveApiKey } from "../api-key";
import { apiFailure, type GlobalOptions, reach, resolveTarget } from "../context";
import { argumentError, configError } from "../errors";
import { printJson } from "../output";

interface ChatOptions {
  readonly stream?: boolean;
  readonly maxTokens?: string;
  readonly temperature?: string;
  readonly seed?: string;
  readonly key?: string;
  readonly keyFile?: string;
}

interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

function numberOption(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw argumentError(`--${name} must be a${integer ? "n integer" : " number"}, got '${value}'`);
  return n;
}

/** Reads Server-Sent Events from a fetch body, yielding each `data:` payload as it arrives. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const text = new TextDecoder();
  let buffered = "";
  for await (const part of body) {
    buffered += text.decode(part, { stream: true });
    let end = buffered.indexOf("\n\n");
    while (end >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("\n");
      if (data) yield data;
      end = buffered.indexOf("\n\n");
    }
  }
}

export function registerChat(program: Command): void {
  program
    .command("chat")
    .description("chat with a language model through the OpenAI API (POST /v1/chat/completions); prints the answer")
    .argument("<model>", "model: name, name:alias or name:version")
    .argument("<prompt>", "the user's message")
    .option("--stream", "print tokens as they arrive (Server-Sent Events)")
    .option("--max-tokens <n>", "most tokens to generate")
    .option("--temperature <t>", "sampling temperature, 0 for greedy")
    .option("--seed <n>", "sampling seed, for repeatable samples")
    .option("--key <apiKey>", KEY_OPTION_HELP.key)
    .option("--key-file <path>", KEY_OPTION_HELP.keyFile)
    .action(async (model: string, prompt: string, o: ChatOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const maxTokens = numberOption("max-tokens", o.maxTokens, true);
      const temperature = numberOption("temperature", o.temperature, false);
      const seed = numberOption("seed", o.seed, true);
      const target = resolveTarget(opts);
      const key = resolveApiKey(o, target.defaultApiKey);
      if (!key) throw configError("no API key: pass --key, --key-file or set MODELGATE_API_KEY");
      const body = {
        model,
        messages: [{ role: "user", content: prompt }],
        ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(o.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      };
      const url = new URL("v1/chat/completions", target.apiUrl.endsWith("/") ? target.apiUrl : `${target.apiUrl}/`);
      const res = await reach(target.apiUrl, () =>
        fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15 * 60_000),
        }),
      );
      if (!res.ok || !o.stream || !res.body) {
        const answer = await toApiResponse<{ choices?: Array<{ message?: { content?: string } }>; usage?: Usage }>(res);
        if (answer.status < 200 || answer.status > 299) throw apiFailure(answer);
        if (opts.json) return printJson(answer.body);
        process.stdout.write(`${answer.body.choices?.[0]?.message?.content ?? ""}\n`);
        return;
      }
      let text = "";
      let usage: Usage | undefined;
      let finishReason: string | undefined;
      for await (const data of sseData(res.body)) {
        if (data === "[DONE]") break;
        const chunk = JSON.parse(data) as {
          error?: { message?: string };
          usage?: Usage;
          choices?: Array<{ delta?: { content?: string }; finish_reason?: string | null }>;
        };
        if (chunk.error) throw apiFailure({ status: 502, headers: res.headers, body: chunk, text: data });
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const delta = choice?.delta?.content ?? "";
        text += delta;
        if (!opts.json && delta) process.stdout.write(delta);
      }
      if (opts.json) return printJson({ model, text, finish_reason: finishReason, usage });
      process.stdout.write("\n");
    });
}
