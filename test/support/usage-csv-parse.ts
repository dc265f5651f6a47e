import { USAGE_KINDS, type UsageKind, type UsageRecord } from "../../functions/core/usage";
import { CSV_COLUMNS, csvHeader, csvRow, jsonLine } from "../../functions/core/usage-csv";

/**
 * Reads back what `usage export` writes (functions/core/usage-csv.ts), so tests can prove the
 * CSV and JSON lines round-trip records exactly. Nothing in the platform parses them.
 */
export class CsvFormatError extends Error {
  override readonly name = "CsvFormatError";
}

export function toCsv(records: readonly UsageRecord[]): string {
  return csvHeader() + records.map(csvRow).join("");
}

export function toJsonLines(records: readonly UsageRecord[]): string {
  return records.map(jsonLine).join("");
}

/** A parsed cell: `null` for an empty unquoted field (absent), else its text. */
type Cell = string | null;

/** Splits RFC 4180 text into rows of cells; accepts LF as well as CRLF line ends. */
export function parseCsvRows(text: string): Cell[][] {
  const rows: Cell[][] = [];
  const n = text.length;
  if (n === 0) return rows;
  let row: Cell[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let s = "";
      for (i++; ; i++) {
        if (i >= n) throw new CsvFormatError("unterminated quoted field");
        if (text[i] !== '"') s += text[i];
        else if (text[i + 1] === '"') s += text[++i];
        else break;
      }
      i++;
      row.push(s);
    } else {
      let j = i;
      for (; j < n && text[j] !== "," && text[j] !== "\r" && text[j] !== "\n"; j++) {
        if (text[j] === '"') throw new CsvFormatError(`quote inside an unquoted field at offset ${j}`);
      }
      row.push(j === i ? null : text.slice(i, j));
      i = j;
    }
    if (i >= n) break;
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (text[i] === "\r" && text[i + 1] === "\n") i += 2;
    else if (text[i] === "\n") i++;
    else throw new CsvFormatError(`unexpected character after a field at offset ${i}`);
    rows.push(row);
    row = [];
    if (i >= n) return rows;
  }
  rows.push(row);
  return rows;
}

function int(cell: Cell, column: string, line: number): number {
  if (cell === null || !/^\d+$/.test(cell)) throw new CsvFormatError(`line ${line}: '${column}' must be a non-negative integer`);
  const v = Number(cell);
  if (!Number.isSafeInteger(v)) throw new CsvFormatError(`line ${line}: '${column}' is too large`);
  return v;
}

function str(cell: Cell, column: string, line: number): string {
  if (cell === null) throw new CsvFormatError(`line ${line}: '${column}' is required`);
  return cell;
}

function recordOfRow(cells: readonly Cell[], line: number): UsageRecord {
  if (cells.length !== CSV_COLUMNS.length)
    throw new CsvFormatError(`line ${line}: expected ${CSV_COLUMNS.length} fields, got ${cells.length}`);
  const [
    requestId,
    time,
    tenantId,
    keyId,
    model,
    version,
    alias,
    kind,
    status,
    latencyMs,
    bytesIn,
    bytesOut,
    input,
    output,
    cost,
    currency,
  ] = cells;
  if (kind != null && !(USAGE_KINDS as readonly string[]).includes(kind)) throw new CsvFormatError(`line ${line}: unknown kind '${kind}'`);
  if ((input == null) !== (output == null)) throw new CsvFormatError(`line ${line}: give both token columns or neither`);
  return {
    requestId: str(requestId ?? null, "requestId", line),
    time: str(time ?? null, "time", line),
    tenantId: str(tenantId ?? null, "tenantId", line),
    keyId: str(keyId ?? null, "keyId", line),
    model: str(model ?? null, "model", line),
    version: int(version ?? null, "version", line),
    ...(alias != null ? { alias } : {}),
    ...(kind != null ? { kind: kind as UsageKind } : {}),
    status: int(status ?? null, "status", line),
    latencyMs: int(latencyMs ?? null, "latencyMs", line),
    bytesIn: int(bytesIn ?? null, "bytesIn", line),
    bytesOut: int(bytesOut ?? null, "bytesOut", line),
    ...(input != null && output != null
      ? { tokens: { input: int(input, "inputTokens", line), output: int(output, "outputTokens", line) } }
      : {}),
    ...(cost != null ? { cost } : {}),
    ...(currency != null ? { currency } : {}),
  };
}

/** Parses CSV written by `toCsv` (the header must match exactly) back into records. */
export function parseCsv(text: string): UsageRecord[] {
  // Blank lines (a trailing one from an editor, say) are not records.
  const [header, ...rows] = parseCsvRows(text).filter((r) => !(r.length === 1 && r[0] === null));
  if (!header || header.join(",") !== CSV_COLUMNS.join(",")) throw new CsvFormatError(`the header must be ${CSV_COLUMNS.join(",")}`);
  return rows.map((cells, i) => recordOfRow(cells, i + 2));
}

/** Parses JSON lines (blank lines ignored). */
export function parseJsonLines(text: string): UsageRecord[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as UsageRecord);
}
