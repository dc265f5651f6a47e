import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

/** How chat messages become a prompt, from tokenizer_config.json's `chat_format`. */
export interface ChatFormat {
  /** Per message; `{Role}` is the capitalised role, `{role}` as given, `{content}` the text. */
  readonly message: string;
  /** Appended after the messages: where the assistant's turn starts. */
  readonly generation_prompt: string;
}

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

/**
 * The model's tokenizer: tokenizer.json and tokenizer_config.json of a Hugging Face style model
 * directory, run by @huggingface/tokenizers. Nothing here splits or joins tokens by hand.
 */
export class LmTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly chatFormat: ChatFormat,
  ) {}

  static async load(modelDir: string): Promise<LmTokenizer> {
    const [tokenizerJson, configJson] = await Promise.all([
      readFile(join(modelDir, "tokenizer.json"), "utf8"),
      readFile(join(modelDir, "tokenizer_config.json"), "utf8"),
    ]);
    const config = JSON.parse(configJson) as { chat_format?: ChatFormat };
    const chatFormat = config.chat_format ?? { message: "{Role}: {content}\n", generation_prompt: "Assistant:" };
    return new LmTokenizer(new Tokenizer(JSON.parse(tokenizerJson), config), chatFormat);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  /** The prompt text for a chat: every message in the chat format, then the generation prompt. */
  applyChatFormat(messages: readonly ChatMessage[]): string {
    const parts = messages.map((m) =>
      this.chatFormat.message
        .replaceAll("{Role}", m.role.charAt(0).toUpperCase() + m.role.slice(1))
        .replaceAll("{role}", m.role)
        .replaceAll("{content}", m.content),
    );
    return parts.join("") + this.chatFormat.generation_prompt;
  }
}
