import { MAX_VERSION_NUMBER, parseVersionNumber } from "../functions/core/version-number";
import { argumentError } from "./errors";

/** A version number given on the command line, checked by the platform's own rule (1..9999). */
export function versionArgument(text: string, what: string): number {
  const version = parseVersionNumber(text);
  if (version === undefined) throw argumentError(`${what} takes a version number 1–${MAX_VERSION_NUMBER}, got '${text}'`);
  return version;
}
