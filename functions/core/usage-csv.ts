import type { UsageRecord } from "./usage";

/**
 * Usage records as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote,
 * CR or LF, quotes doubled) and as JSON lines. The CSV round-trips records exactly: an absent
 * optional field is an empty field, while an empty string is written quoted (`""`), so the two
 * stay apart; tokens are two columns, both empty when the model reported none. (The parser
 * that proves the round trip lives with the tests: test/support/usage-csv-parse.ts.)
 */
export const CSV_COLUMNS = [
  "requestId",
  "time",
  "tenantId",
  "keyId",
  "model",
  "version",
  "alias",
  "kind",
  "status",
  "latencyMs",
  "bytesIn",
  "bytesOut",
  "inputTokens",
  "outputTokens",
  "cost",
  "currency",
] as const;

const CRLF = "\r\n";

function field(v: string | number | undefined): string {
  if (v === undefined) return "";
  const s = String(v);
  return s === "" || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvHeader = (): string => `${CSV_COLUMNS.join(",")}${CRLF}`;

export function csvRow(r: UsageRecord): string {
  const cells: Array<string | number | undefined> = [
    r.requestId,
    r.time,
    r.tenantId,
    r.keyId,
    r.model,
    r.version,
    r.alias,
    r.kind,
    r.status,
    r.latencyMs,
    r.bytesIn,
    r.bytesOut,
    r.tokens?.input,
    r.tokens?.output,
    r.cost,
    r.currency,
  ];
  return `${cells.map(field).join(",")}${CRLF}`;
}

/** The header and one line per record. */

export const jsonLine = (r: UsageRecord): string => `${JSON.stringify(r)}\n`;
