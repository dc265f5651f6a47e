import { readFileSync } from "node:fs";
import { argumentError, configError } from "./errors";

/** How a command was told its API key: a key on argv lands in shell history and `ps`. */
export interface KeyOptions {
  /** The key itself, or `-` to read it from stdin. */
  readonly key?: string | undefined;
  /** A file holding the key (surrounding whitespace ignored). */
  readonly keyFile?: string | undefined;
}

export const KEY_OPTION_HELP = {
  key: "tenant API key, or - to read it from stdin (default: $MODELGATE_API_KEY, else the local demo key)",
  keyFile: "read the tenant API key from this file",
} as const;

/** Reads a whole file (`0`: stdin); injectable for tests. */
export type ReadText = (file: string | 0) => string;
const readText: ReadText = (file) => readFileSync(file, "utf8");

/**
 * The API key to send: `--key-file`, `--key -` (stdin), `--key`, $MODELGATE_API_KEY, else the
 * local demo key. Undefined when none applies.
 */
export function resolveApiKey(o: KeyOptions, fallback: string | undefined, read: ReadText = readText): string | undefined {
  if (o.key !== undefined && o.keyFile !== undefined) throw argumentError("give --key or --key-file, not both");
  if (o.keyFile !== undefined) return fromSource(o.keyFile, `--key-file '${o.keyFile}'`, read);
  if (o.key === "-") return fromSource(0, "stdin (--key -)", read);
  return o.key ?? process.env.MODELGATE_API_KEY ?? fallback;
}

function fromSource(file: string | 0, what: string, read: ReadText): string {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    throw argumentError(`cannot read the API key from ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const key = text.trim();
  if (!key) throw configError(`no API key in ${what}`);
  if (/\s/.test(key)) throw argumentError(`${what} must hold one API key, found more than one word`);
  return key;
}
