import type { FinishReason } from "./generate";

/** OpenAI's usage object; the counts are the engine's own (prompt as tokenized, every sampled token). */
export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export interface ResponseIdentity {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export function chatCompletion(who: ResponseIdentity, text: string, finishReason: FinishReason, u: Usage) {
  return {
    ...who,
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: finishReason }],
    usage: u,
  };
}

export function textCompletion(who: ResponseIdentity, text: string, finishReason: FinishReason, u: Usage) {
  return { ...who, object: "text_completion", choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }], usage: u };
}

/**
 * The chunks of a streamed answer, as vLLM's OpenAI server words them: a chat stream opens with
 * the assistant role, carries text in `delta.content`, and closes with an empty delta and the
 * finish reason; a completion stream carries `text`. With include_usage every chunk has
 * `usage: null` and one last chunk has empty `choices` and the usage.
 */
export class ChunkWriter {
  constructor(
    private readonly kind: "chat" | "completion",
    private readonly who: ResponseIdentity,
    private readonly includeUsage: boolean,
  ) {}

  /** The chat stream's first chunk (role only); none for completions. */
  opening(): object | undefined {
    return this.kind === "chat" ? this.choice({ role: "assistant", content: "" }, null) : undefined;
  }

  text(piece: string): object {
    return this.kind === "chat" ? this.choice({ content: piece }, null) : this.choice(piece, null);
  }

  finish(reason: FinishReason): object {
    return this.kind === "chat" ? this.choice({}, reason) : this.choice("", reason);
  }

  usage(u: Usage): object | undefined {
    return this.includeUsage ? { ...this.who, object: this.object(), choices: [], usage: u } : undefined;
  }

  private object(): string {
    return this.kind === "chat" ? "chat.completion.chunk" : "text_completion";
  }

  private choice(content: object | string, finishReason: FinishReason | null): object {
    const choice =
      typeof content === "string"
        ? { index: 0, text: content, logprobs: null, finish_reason: finishReason }
        : { index: 0, delta: content, logprobs: null, finish_reason: finishReason };
    return { ...this.who, object: this.object(), choices: [choice], ...(this.includeUsage && { usage: null }) };
  }
}
