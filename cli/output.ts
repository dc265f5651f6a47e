/** Output helpers: one JSON document for scripts (`--json`), aligned tables for people. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | undefined>>): void {
  const cells = rows.map((r) => headers.map((_, i) => r[i] ?? "-"));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${[line(headers), ...cells.map(line)].join("\n")}\n`);
}

export function printFields(fields: ReadonlyArray<readonly [string, string | undefined]>): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [k, v] of fields) process.stdout.write(`${`${k}:`.padEnd(width + 2)}${v ?? "-"}\n`);
}

/** Timestamps to the second, in UTC, for tables. */
export const shortTime = (iso: string | undefined) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : undefined);
