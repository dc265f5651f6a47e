import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { UsageRecord } from "../../functions/core/usage";
import { CSV_COLUMNS, csvHeader } from "../../functions/core/usage-csv";
import { CsvFormatError, parseCsv, parseCsvRows, parseJsonLines, toCsv, toJsonLines } from "../support/usage-csv-parse";

/** Strings rich in what CSV must quote, plus arbitrary UTF-16 (lone surrogates included). */
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom('"', ",", "\r", "\n", "\r\n", " ", "a", "é", "😀", "#") }),
  fc.string({ unit: "binary" }),
  fc.string(),
);
const count = fc.maxSafeNat();

const recordArb: fc.Arbitrary<UsageRecord> = fc.record(
  {
    requestId: text,
    time: text,
    tenantId: text,
    keyId: text,
    model: text,
    version: count,
    alias: text,
    kind: fc.constantFrom("billable" as const, "refused" as const, "shadow" as const),
    status: count,
    latencyMs: count,
    bytesIn: count,
    bytesOut: count,
    tokens: fc.record({ input: count, output: count }, { noNullPrototype: true }),
  },
  {
    requiredKeys: ["requestId", "time", "tenantId", "keyId", "model", "version", "status", "latencyMs", "bytesIn", "bytesOut"],
    // Plain objects, as JSON.parse and the CSV parser make them (toStrictEqual compares prototypes).
    noNullPrototype: true,
  },
);

const sample: UsageRecord = {
  requestId: "req-1",
  time: "2026-11-28T13:05:00.000Z",
  tenantId: "acme",
  keyId: "AAAAAAAAAAAAAAAA",
  model: "iris",
  version: 2,
  alias: "prod",
  status: 200,
  latencyMs: 12,
  bytesIn: 80,
  bytesOut: 120,
  tokens: { input: 5, output: 7 },
};

describe("usage records as CSV and JSON lines", () => {
  it("round-trips any records exactly through CSV (property)", () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), (records) => {
        expect(parseCsv(toCsv(records))).toStrictEqual(records);
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips any records through JSON lines, and CSV and JSON lines agree (property)", () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), (records) => {
        expect(parseJsonLines(toJsonLines(records))).toStrictEqual(parseCsv(toCsv(records)));
      }),
      { numRuns: 200 },
    );
  });

  it("splits any grid of cells back exactly (RFC 4180 quoting, property)", () => {
    fc.assert(
      fc.property(fc.array(fc.array(text, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (grid) => {
        const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
        const csv = grid.map((row) => `${row.map(quote).join(",")}\r\n`).join("");
        expect(parseCsvRows(csv)).toEqual(grid);
      }),
    );
  });

  it("writes a fixed header, CRLF lines, tokens as two columns, and quotes only when needed", () => {
    expect(csvHeader()).toBe(
      "requestId,time,tenantId,keyId,model,version,alias,kind,status,latencyMs,bytesIn,bytesOut,inputTokens,outputTokens,cost,currency\r\n",
    );
    expect(CSV_COLUMNS).toHaveLength(16);
    const odd: UsageRecord = { ...sample, requestId: 'a,"b"', alias: "", kind: "refused", tokens: undefined } as UsageRecord;
    const { tokens: _, ...noTokens } = odd;
    const priced: UsageRecord = { ...sample, requestId: "req-2", cost: "0.000123", currency: "USD" };
    expect(toCsv([sample, noTokens, priced]).split("\r\n").slice(1)).toEqual([
      "req-1,2026-11-28T13:05:00.000Z,acme,AAAAAAAAAAAAAAAA,iris,2,prod,,200,12,80,120,5,7,,",
      '"a,""b""",2026-11-28T13:05:00.000Z,acme,AAAAAAAAAAAAAAAA,iris,2,"",refused,200,12,80,120,,,,',
      "req-2,2026-11-28T13:05:00.000Z,acme,AAAAAAAAAAAAAAAA,iris,2,prod,,200,12,80,120,5,7,0.000123,USD",
      "",
    ]);
    expect(parseCsv(toCsv([priced]))).toEqual([priced]);
    expect(toJsonLines([sample])).toBe(`${JSON.stringify(sample)}\n`);
  });

  it("reads LF line ends too, and rejects malformed input with a reason", () => {
    const lf = toCsv([sample]).replace(/\r\n/g, "\n");
    expect(parseCsv(lf)).toEqual([sample]);
    expect(parseCsv(`${toCsv([sample])}\r\n`)).toEqual([sample]);
    const bad = (csv: string, why: RegExp) => expect(() => parseCsv(csv)).toThrow(why);
    const header = csvHeader();
    bad("a,b\r\n", /header/);
    bad(`${header}x,y\r\n`, /expected 16 fields/);
    bad(`${header}"open`, /unterminated/);
    bad(`${header}r,t,a,k,m,1,,weird,200,1,1,1,,,,\r\n`, /unknown kind/);
    bad(`${header}r,t,a,k,m,1,,,200,1,1,1,5,,,\r\n`, /both token columns/);
    bad(`${header}r,t,a,k,m,-1,,,200,1,1,1,,,,\r\n`, /'version' must be a non-negative integer/);
    bad(`${header}r,t,a,k,m,1,,,200,1,1,1,,,,\r\n`.replace("r,", 'r"x,'), /quote inside/);
    expect(() => parseCsv(`${header},t,a,k,m,1,,,200,1,1,1,,,,\r\n`)).toThrow(CsvFormatError);
  });
});
