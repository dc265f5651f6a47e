import { ByteLevelPreTokenizer } from "@huggingface/tokenizers";

/**
 * Learns a GPT-2 style byte-level BPE vocabulary by counting, and writes it as a Hugging Face
 * `tokenizer.json`. Only the vocabulary is built here: splitting text into words uses the
 * library's own ByteLevel pre-tokenizer, and all encoding/decoding at run time goes through
 * @huggingface/tokenizers loading the file written here.
 */
export const END_OF_TEXT = "<|endoftext|>";
export const END_OF_TEXT_ID = 0;

const PRE_TOKENIZER = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true } as const;

export interface BpeVocabulary {
  /** Token string → id; id 0 is END_OF_TEXT, 1..256 the byte symbols, then one per merge. */
  readonly vocab: Record<string, number>;
  readonly merges: readonly (readonly [string, string])[];
}

/**
 * Classic BPE training (Sennrich et al. 2016) over word counts: repeatedly merge the most
 * frequent adjacent symbol pair. Ties go to the lexicographically smallest pair so the
 * result never depends on hash or insertion order.
 */
export function learnBpe(texts: readonly string[], vocabSize: number): BpeVocabulary {
  const preTokenizer = new ByteLevelPreTokenizer(PRE_TOKENIZER);
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const word of preTokenizer.pre_tokenize_text(text)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }
  const words = [...wordCounts.keys()].sort();
  const counts = words.map((w) => wordCounts.get(w) as number);
  const symbols = words.map((w) => [...w]);

  const vocab: Record<string, number> = { [END_OF_TEXT]: END_OF_TEXT_ID };
  for (let byte = 0; byte < 256; byte++) vocab[preTokenizer.byte_encoder[byte] as string] = byte + 1;
  const merges: [string, string][] = [];
  while (Object.keys(vocab).length < vocabSize) {
    const best = mostFrequentPair(symbols, counts);
    if (!best) break;
    const [left, right] = best;
    const merged = left + right;
    for (const s of symbols) {
      for (let i = 0; i < s.length - 1; i++) {
        if (s[i] === left && s[i + 1] === right) s.splice(i, 2, merged);
      }
    }
    merges.push([left, right]);
    vocab[merged] = Object.keys(vocab).length;
  }
  return { vocab, merges };
}

function mostFrequentPair(symbols: readonly string[][], counts: readonly number[]): [string, string] | undefined {
  const pairCounts = new Map<string, number>();
  symbols.forEach((s, w) => {
    for (let i = 0; i < s.length - 1; i++) {
      // \u0000 cannot occur in a byte-level symbol, so it separates the pair unambiguously.
      const key = `${s[i]}\u0000${s[i + 1]}`;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + (counts[w] as number));
    }
  });
  let bestKey: string | undefined;
  let bestCount = 0;
  for (const [key, count] of pairCounts) {
    if (count > bestCount || (count === bestCount && bestKey !== undefined && key < bestKey)) {
      bestKey = key;
      bestCount = count;
    }
  }
  if (bestKey === undefined || bestCount < 2) return undefined;
  return bestKey.split("\u0000") as [string, string];
}

/** The Hugging Face tokenizer.json document for a byte-level BPE vocabulary (GPT-2 layout). */
export function tokenizerJson(bpe: BpeVocabulary): object {
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      { id: END_OF_TEXT_ID, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: null,
    pre_tokenizer: PRE_TOKENIZER,
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: bpe.vocab,
      merges: bpe.merges.map(([a, b]) => [a, b]),
    },
  };
}
