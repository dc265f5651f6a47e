import { createHash, randomBytes } from "node:crypto";
import { encodeBase62, randomBase62 } from "../base62";

/**
 * Ids of the Batch API's objects, in OpenAI's shapes (`file-…`, `batch_…`), so clients that
 * check a prefix keep working. A batch id starts with its creation time in base62, so the
 * tenant's batches sort by age on the id alone (the list pages by it).
 */

const FILE_ID = /^file-[0-9A-Za-z]{24}$/;
const BATCH_ID = /^batch_[0-9A-Za-z]{24}$/;

export const isFileId = (id: string): boolean => FILE_ID.test(id);
export const isBatchId = (id: string): boolean => BATCH_ID.test(id);

export function newFileId(random: (n: number) => Uint8Array = randomBytes): string {
  return `file-${randomBase62(24, random)}`;
}

/** `batch_` + 8 characters of creation time (ms, base62) + 16 random ones. */
export function newBatchId(nowMs: number, random: (n: number) => Uint8Array = randomBytes): string {
  return `batch_${encodeBase62(BigInt(nowMs), 8)}${randomBase62(16, random)}`;
}

/**
 * The id of a file a batch writes (its output or error file): derived from the batch, so a
 * finalization run again (a crash, a redelivered message) writes the same file, not a second one.
 */
export function batchFileId(batchId: string, kind: "output" | "error"): string {
  return `file-${digest62(`${batchId}/${kind}`, 24)}`;
}

/**
 * The request id of one line of a batch, as its usage record is keyed: fixed by the batch and
 * the line's `custom_id`, so a line run twice (a crash, a redelivery) meets its own record and
 * is billed once. The custom id is hashed: it is the client's text, of any characters.
 */
export function lineRequestId(batchId: string, customId: string): string {
  return `${batchId}.${digest62(customId, 16)}`;
}

function digest62(text: string, width: number): string {
  const hex = createHash("sha256").update(text).digest("hex");
  return encodeBase62(BigInt(`0x${hex}`), width).slice(-width);
}
