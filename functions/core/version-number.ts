import { z } from "zod";

/**
 * The one rule for model version numbers: whole numbers 1..9999. The config, the admin API's
 * bodies and paths, the inference routes and the CLI all check it here, so a number one
 * accepts is never refused by another.
 */
export const MAX_VERSION_NUMBER = 9999;

/** A version number inside a JSON document (config, admin bodies). */
export const VERSION_NUMBER = z.number().int().min(1).max(MAX_VERSION_NUMBER);

/** Canonical decimal text only: no sign, no leading zero, at most four digits (1..9999). */
const VERSION_TEXT = /^[1-9][0-9]{0,3}$/;

/** The version number a path segment, query parameter or CLI flag names; `undefined` when it names none. */
export function parseVersionNumber(text: string): number | undefined {
  return VERSION_TEXT.test(text) ? Number(text) : undefined;
}
