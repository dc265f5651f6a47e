import { ModelFailedError } from "./errors";
import { type ReportedTokens, reportedTokens, usageObjectOf } from "./kserve";

/** A line longer than this is no chunk of a completion: the stream is refused, not buffered on. */
const MAX_LINE_CHARS = 1_000_000;

/**
 * Splits a container's stream into its JSON chunks. The LMI container writes one chunk per
 * line (vLLM's OpenAI server as SSE `data: {…}` lines, others as bare JSON lines), and
 * SageMaker cuts `PayloadPart`s anywhere: inside a line, inside a UTF-8 character.
 */
export class JsonLineDecoder {
  private readonly text = new TextDecoder("utf-8");
  private rest = "";

  /** The complete chunks that `bytes` finishes, as JSON text. */
  push(bytes: Uint8Array): string[] {
    return this.lines(this.text.decode(bytes, { stream: true }));
  }

  /** What remains once the stream has ended (a last line without a newline). */
  end(): string[] {
    const last = this.rest + this.text.decode();
    this.rest = "";
    return chunkOf(last);
  }

  private lines(text: string): string[] {
    const parts = (this.rest + text).split("\n");
    this.rest = parts.pop() ?? "";
    if (this.rest.length > MAX_LINE_CHARS) throw new ModelFailedError("the model sent a stream line past 1,000,000 characters");
    return parts.flatMap(chunkOf);
  }
}

function chunkOf(line: string): string[] {
  let s = line.trim();
  if (s.startsWith("data:")) s = s.slice(5).trim();
  return s === "" || s === "[DONE]" || s.startsWith(":") ? [] : [s];
}

export interface StreamedChunk {
  /** The chunk, re-serialized with the client's model name. */
  readonly json: string;
  /** The trailing usage chunk (no choices, a usage object) that the gateway asked for. */
  readonly isUsage: boolean;
}

/**
 * Meters a completion stream as it passes: the engine's usage chunk when it comes, and
 * otherwise (a stream cut short) the content chunks seen, one token each — never zero for
 * text that was generated.
 */
export class StreamMeter {
  private usage: ReportedTokens | undefined;
  private contentChunks = 0;

  constructor(
    private readonly clientModel: string,
    /** Told about a usage chunk whose counts cannot be billed (ignored: the content chunks count instead). */
    private readonly onRejectedTokens?: (usage: unknown) => void,
  ) {}

  /** Parses one chunk; a chunk that is not JSON fails the stream (the model broke the contract). */
  read(text: string): StreamedChunk {
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(text) as Record<string, unknown>;
    } catch (cause) {
      throw new ModelFailedError("the model sent a stream chunk that is not JSON", { cause });
    }
    if (typeof chunk !== "object" || chunk === null) throw new ModelFailedError("the model sent a stream chunk that is not an object");
    if ("error" in chunk) throw new ModelFailedError("the model reported an error mid-stream");
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const tokens = reportedTokens(chunk, this.onRejectedTokens);
    if (tokens) this.usage = tokens;
    if (choices.some(hasContent)) this.contentChunks++;
    // The usage chunk by its shape, valid counts or not: one the client did not ask for stays hidden.
    return {
      json: JSON.stringify({ ...chunk, model: this.clientModel }),
      isUsage: choices.length === 0 && usageObjectOf(chunk) !== undefined,
    };
  }

  /** The tokens to bill: the engine's counts, else the content chunks seen. */
  tokens(): ReportedTokens | undefined {
    if (this.usage) return this.usage;
    return this.contentChunks > 0 ? { input: 0, output: this.contentChunks } : undefined;
  }
}

function hasContent(choice: unknown): boolean {
  if (typeof choice !== "object" || choice === null) return false;
  const c = choice as { delta?: { content?: unknown }; text?: unknown };
  return (typeof c.delta?.content === "string" && c.delta.content !== "") || (typeof c.text === "string" && c.text !== "");
}
