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

/** A usage object (not `"usage":null`) or an error anywhere in a chunk: such a chunk is parsed whole. */
const NEEDS_PARSE = /"usage"\s*:\s*\{|"error"/;
/** A non-empty `content` or `text` string: the fallback count of a stream that ends without usage. */
const HAS_CONTENT = /"(?:content|text)"\s*:\s*"(?!")/;

/**
 * Meters a completion stream as it passes: the engine's usage chunk when it comes, and
 * otherwise (a stream cut short) the content chunks seen, one token each — never zero for
 * text that was generated.
 *
 * Only what billing needs is parsed. The first chunk is parsed whole, which tells the engine's
 * `"model":"…"` field as it writes it; every later content chunk that carries that exact field
 * and no usage or error is relayed as the engine's text with that field swapped for the
 * client's, without being parsed and rebuilt (a quote inside a JSON string is escaped, so the
 * field cannot be matched inside content). Usage and error chunks, and any chunk the field is
 * not found in, take the whole parse.
 */
export class StreamMeter {
  private usage: ReportedTokens | undefined;
  private contentChunks = 0;
  private engineModelField: string | undefined;
  private readonly clientModelField: string;

  constructor(
    private readonly clientModel: string,
    /** Told about a usage chunk whose counts cannot be billed (ignored: the content chunks count instead). */
    private readonly onRejectedTokens?: (usage: unknown) => void,
  ) {
    this.clientModelField = `"model":${JSON.stringify(clientModel)}`;
  }

  /** Reads one chunk; a chunk that is not a JSON object fails the stream (the model broke the contract). */
  read(text: string): StreamedChunk {
    const field = this.engineModelField;
    if (field !== undefined && text.charCodeAt(0) === 0x7b && text.charCodeAt(text.length - 1) === 0x7d && !NEEDS_PARSE.test(text)) {
      const at = text.indexOf(field);
      if (at >= 0) {
        if (HAS_CONTENT.test(text)) this.contentChunks++;
        return { json: text.slice(0, at) + this.clientModelField + text.slice(at + field.length), isUsage: false };
      }
    }
    return this.parse(text);
  }

  private parse(text: string): StreamedChunk {
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(text) as Record<string, unknown>;
    } catch (cause) {
      throw new ModelFailedError("the model sent a stream chunk that is not JSON", { cause });
    }
    if (typeof chunk !== "object" || chunk === null || Array.isArray(chunk))
      throw new ModelFailedError("the model sent a stream chunk that is not an object");
    if ("error" in chunk) throw new ModelFailedError("the model reported an error mid-stream");
    if (typeof chunk.model === "string") {
      const field = `"model":${JSON.stringify(chunk.model)}`;
      if (text.includes(field)) this.engineModelField = field;
    }
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
