/**
 * Batch API layout in the usage table, beside the records whose lines it bills (usage-keys.ts):
 *   file:   pk BFILE#<tenant>#            sk <fileId>                 a file's metadata; expiresAt (TTL) = the file's own expiry
 *   batch:  pk BATCH#<tenant>#            sk <batchId>                the batch (batch ids sort by creation time); expiresAt (TTL)
 *   line:   pk BLINE#<tenant>#<batchId>   sk L#<line, 6 digits>       first start time, then its result
 *   chunk:  pk BLINE#<tenant>#<batchId>   sk C#<chunk, 5 digits>      a chunk counted into the batch (once)
 *   active: pk BACTIVE                    sk <tenant>#<batchId>       batches not yet finished: the local host's queue recovers from these
 * The item types are no usage packs, so the aggregator's stream filter passes none of them.
 * Prefixes end with the delimiter, so tenant `acme` never reads `acme-corp`'s items.
 */
export const BATCH_FILE_PK_PREFIX = "BFILE#";
export const BATCH_PK_PREFIX = "BATCH#";
export const BATCH_LINE_PK_PREFIX = "BLINE#";
export const BATCH_ACTIVE_PK = "BACTIVE";

export const batchFilePk = (tenantId: string) => `${BATCH_FILE_PK_PREFIX}${tenantId}#`;
export const batchPk = (tenantId: string) => `${BATCH_PK_PREFIX}${tenantId}#`;
export const batchLinePk = (tenantId: string, batchId: string) => `${BATCH_LINE_PK_PREFIX}${tenantId}#${batchId}`;
export const lineSk = (line: number) => `L#${String(line).padStart(6, "0")}`;
export const chunkSk = (chunk: number) => `C#${String(chunk).padStart(5, "0")}`;
export const activeSk = (tenantId: string, batchId: string) => `${tenantId}#${batchId}`;
