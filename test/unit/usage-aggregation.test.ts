import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { buildUsageRecord, type UsageRecord } from "../../functions/core/usage";
import {
  checkedCountersOf,
  MAX_TOKENS_PER_RECORD,
  planTransactions,
  positionOf,
  unitsOfPack,
} from "../../functions/core/usage-aggregation";

const base = buildUsageRecord({
  requestId: "r1",
  receivedAt: Date.UTC(2026, 11, 1, 10),
  finishedAt: Date.UTC(2026, 11, 1, 10) + 5,
  tenantId: "acme",
  keyId: "k1",
  model: "iris",
  version: 1,
  status: 200,
  bytesIn: 10,
  bytesOut: 20,
  tokens: { input: 3, output: 4 },
});

describe("usage aggregation (core)", () => {
  it("bills only non-negative safe integers under the cap; the request still counts", () => {
    for (const input of [-5, 1.5, Number.NaN, MAX_TOKENS_PER_RECORD + 1, 1e200, Number.POSITIVE_INFINITY]) {
      const { counters, rejected } = checkedCountersOf({ ...base, tokens: { input, output: 4 } });
      expect(rejected).toEqual(["inputTokens"]);
      expect(counters).toMatchObject({ requests: 1, inputTokens: 0, outputTokens: 4, bytesOut: 20 });
    }
    expect(checkedCountersOf(base).rejected).toEqual([]);
  });

  it("positions sort in stream order whatever the sequence numbers' lengths", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 38n }), fc.bigInt({ min: 0n, max: 10n ** 38n }), (a, b) => {
        const [pa, pb] = [positionOf(a.toString(), 0), positionOf(b.toString(), 0)];
        expect(pa < pb).toBe(a < b);
      }),
    );
    expect(positionOf("7", 1) > positionOf("7", 0)).toBe(true);
  });

  it("cuts a pack into parts and plans transactions within the cap that lose and double nothing", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 3, max: 99 }),
        (sizes, cap) => {
          let n = 0;
          const units = sizes.flatMap((size, p) => {
            const records: UsageRecord[] = Array.from({ length: size }, (_, i) => ({ ...base, requestId: `r${n++}`, keyId: `k${i % 7}` }));
            return unitsOfPack(
              { sequenceNumber: String(1000 + p), tenantId: "acme", minute: "2026-12-01T10:00", records },
              0,
              cap,
              () => {},
            );
          });
          const txs = planTransactions(units, cap);
          let requests = 0;
          let applied = 0;
          for (const tx of txs) {
            expect(tx.deltas.length).toBeLessThanOrEqual(cap);
            for (const d of tx.deltas) {
              if (d.kind === "applied") applied += d.records;
              else if (d.key.granularity === "day") requests += d.counters.requests;
            }
          }
          const total = sizes.reduce((a, b) => a + b, 0);
          expect({ requests, applied }).toEqual({ requests: total, applied: total });
          // Checkpoints only move forward, ending at the last unit.
          expect(txs.map((t) => t.position)).toEqual([...txs.map((t) => t.position)].sort());
          expect(txs.at(-1)?.position).toBe(units.at(-1)?.position);
        },
      ),
    );
  });
});
