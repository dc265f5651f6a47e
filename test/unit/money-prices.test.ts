import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { costOf } from "../../functions/core/money/cost";
import {
  appendPrice,
  InvalidPriceError,
  type Price,
  priceFromJson,
  priceInForce,
  priceToJson,
  specificityOf,
} from "../../functions/core/money/prices";

const price = (over: Partial<Price> & Pick<Price, "effectiveFrom">, perRequest = 1n): Price => ({
  model: "chat",
  currency: "USD",
  components: { perRequest },
  ...over,
});

const listV0 = price({ effectiveFrom: "2026-01-01T00:00:00Z" }, 10n);
const listV0Later = price({ effectiveFrom: "2026-03-01T00:00:00Z" }, 11n);
const listV2 = price({ effectiveFrom: "2026-02-01T00:00:00Z", version: 2 }, 20n);
const acme = price({ effectiveFrom: "2026-01-15T00:00:00Z", tenant: "acme" }, 30n);
const acmeV2 = price({ effectiveFrom: "2026-04-01T00:00:00Z", tenant: "acme", version: 2 }, 40n);
const other = price({ effectiveFrom: "2025-01-01T00:00:00Z", model: "vision" }, 99n);
const book = [listV0, listV0Later, listV2, acme, acmeV2, other];

const perRequestAt = (q: { version?: number; tenant?: string; at: string }) =>
  priceInForce(book, { model: "chat", version: q.version ?? 1, tenant: q.tenant ?? "beta", at: q.at })?.components.perRequest;

describe("price book (core)", () => {
  it("ranks tenant + version > tenant > version > model", () => {
    expect([{}, { version: 1 }, { tenant: "acme" }, { tenant: "acme", version: 1 }].map(specificityOf)).toEqual([0, 1, 2, 3]);
  });

  it("takes the most specific price in force, then the latest from", () => {
    // No price yet.
    expect(perRequestAt({ at: "2025-12-31T23:59:59.999Z" })).toBeUndefined();
    // The list price, and its change on March 1st (inclusive).
    expect(perRequestAt({ at: "2026-01-01T00:00:00Z" })).toBe(10n);
    expect(perRequestAt({ at: "2026-02-28T23:59:59.999Z" })).toBe(10n);
    expect(perRequestAt({ at: "2026-03-01T00:00:00Z" })).toBe(11n);
    // Version 2 has its own list price from February; before it, the model-wide one.
    expect(perRequestAt({ version: 2, at: "2026-01-31T00:00:00Z" })).toBe(10n);
    expect(perRequestAt({ version: 2, at: "2026-05-01T00:00:00Z" })).toBe(20n);
    // acme's contract from January 15th wins over every list price, even a newer one for v2.
    expect(perRequestAt({ tenant: "acme", at: "2026-01-14T00:00:00Z" })).toBe(10n);
    expect(perRequestAt({ tenant: "acme", at: "2026-03-05T00:00:00Z" })).toBe(30n);
    expect(perRequestAt({ tenant: "acme", version: 2, at: "2026-03-05T00:00:00Z" })).toBe(30n);
    // ... and acme's own v2 price wins over its contract from April.
    expect(perRequestAt({ tenant: "acme", version: 2, at: "2026-04-01T00:00:00Z" })).toBe(40n);
    expect(perRequestAt({ tenant: "acme", version: 1, at: "2026-04-01T00:00:00Z" })).toBe(30n);
    // A tenant whose id is a prefix of acme's gets the list price.
    expect(perRequestAt({ tenant: "acm", at: "2026-04-01T00:00:00Z" })).toBe(11n);
  });

  it("compares times as instants, not as text", () => {
    const zoned = price({ effectiveFrom: "2026-01-01T01:00:00+02:00" }, 5n); // 2025-12-31T23:00Z
    expect(priceInForce([listV0, zoned], { model: "chat", version: 1, tenant: "beta", at: "2025-12-31T23:30:00Z" })).toBe(zoned);
  });

  it("breaks an exact tie in favour of the price appended last", () => {
    const again = price({ effectiveFrom: listV0.effectiveFrom }, 12n);
    expect(priceInForce([listV0, again], { model: "chat", version: 1, tenant: "beta", at: "2026-01-02T00:00:00Z" })).toBe(again);
  });

  it("appends prices only forward in time: a price change never reprices a record received before it", () => {
    const now = new Date("2026-02-10T00:00:00Z");
    expect(() => appendPrice(book, price({ effectiveFrom: "2026-02-09T00:00:00Z" }), now)).toThrow(
      "effectiveFrom 2026-02-09T00:00:00Z is not after now (2026-02-10T00:00:00.000Z): a price cannot change what was already received",
    );
    expect(() => appendPrice(book, price({ effectiveFrom: "2026-02-20T00:00:00Z" }), now)).toThrow(
      "effectiveFrom 2026-02-20T00:00:00Z is not after 2026-03-01T00:00:00Z, the latest price of chat",
    );
    // Another scope's later price does not block this one.
    expect(appendPrice(book, price({ effectiveFrom: "2026-02-20T00:00:00Z", version: 2 }, 21n), now)).toHaveLength(book.length + 1);

    expect(() => appendPrice([], price({ effectiveFrom: now.toISOString() }), now)).toThrow("is not after now");

    // Property: a record priced when it was received keeps that cost whatever is appended later.
    const hour = 3_600_000;
    const step = fc.record({
      gapMs: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 500 * hour })),
      appendPrice: fc.boolean(),
      /** when the appended price takes effect, relative to now: the past ones are refused */
      leadMs: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -2 * hour, max: 2 * hour })),
      version: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
      tenant: fc.option(fc.constantFrom("acme", "beta"), { nil: undefined }),
      perMillionInput: fc.bigInt({ min: 0n, max: 10n ** 12n }),
      inputTokens: fc.integer({ min: 0, max: 1_000_000 }),
    });
    type Billed = { at: string; version: number; tenant: string; inputTokens: number; cost: bigint | undefined };
    const costAt = (r: Billed, prices: readonly Price[]) => {
      const p = priceInForce(prices, { model: "chat", version: r.version, tenant: r.tenant, at: r.at });
      return p && costOf(p, { requests: 1, inputTokens: r.inputTokens, outputTokens: 0 }).total;
    };
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let history: Price[] = [];
        let nowMs = Date.parse("2026-01-01T00:00:00Z");
        const billed: Billed[] = [];
        for (const s of steps) {
          nowMs += s.gapMs;
          if (s.appendPrice) {
            const effectiveFrom = new Date(nowMs + s.leadMs).toISOString();
            const candidate: Price = {
              ...price({ effectiveFrom, version: s.version, tenant: s.tenant }),
              components: { perMillionInput: s.perMillionInput },
            };
            try {
              history = appendPrice(history, candidate, new Date(nowMs));
            } catch (err) {
              if (!(err instanceof InvalidPriceError)) throw err;
            }
          } else {
            const r: Billed = {
              at: new Date(nowMs).toISOString(),
              version: s.version ?? 1,
              tenant: s.tenant ?? "beta",
              inputTokens: s.inputTokens,
              cost: undefined,
            };
            r.cost = costAt(r, history);
            billed.push(r);
          }
        }
        for (const r of billed) expect(costAt(r, history)).toBe(r.cost);
      }),
      { numRuns: 500 },
    );
  });

  it("reads prices from JSON, naming the bad field", () => {
    const json = {
      model: "chat",
      version: 2,
      tenant: "acme",
      currency: "EUR",
      effectiveFrom: "2026-01-01T00:00:00Z",
      components: {
        perMillionInput: "0.15",
        perMillionOutput: "0.6",
        perMillionCachedInput: "0.075",
        perRequest: "0",
        perSecond: "0.0001",
      },
    };
    const p = priceFromJson(json);
    expect(p.components).toEqual({
      perMillionInput: 150_000_000n,
      perMillionOutput: 600_000_000n,
      perMillionCachedInput: 75_000_000n,
      perRequest: 0n,
      perSecond: 100_000n,
    });
    expect(priceToJson(p)).toEqual(json);
    expect(priceFromJson(JSON.parse(JSON.stringify(priceToJson(p))))).toEqual(p);

    const bad: Array<[unknown, string]> = [
      [[], "price must be an object"],
      [{ ...json, colour: "red" }, "unknown price field 'colour'"],
      [{ ...json, model: "" }, "model must be a non-empty string"],
      [{ ...json, version: 0 }, "version must be a whole number 1..9999, got 0"],
      [{ ...json, tenant: "Acme" }, 'tenant must match ^[a-z0-9-]{3,40}$, got "Acme"'],
      [{ ...json, currency: "eur" }, 'currency must be an ISO 4217 code of three capital letters (USD, EUR), got "eur"'],
      [
        { ...json, effectiveFrom: "2026-01-01" },
        'effectiveFrom must be an ISO-8601 time with a zone (2026-01-01T00:00:00Z), got "2026-01-01"',
      ],
      [{ ...json, effectiveFrom: "2026-13-01T00:00:00Z" }, "effectiveFrom must be an ISO-8601 time with a zone"],
      [{ ...json, components: {} }, "components must set at least one of perRequest"],
      [{ ...json, components: { perMilionInput: "0.15" } }, "unknown price component 'perMilionInput'"],
      [{ ...json, components: { perRequest: 0.002 } }, 'components.perRequest must be a decimal string such as "0.15", got 0.002'],
      [{ ...json, components: { perRequest: "-0.002" } }, 'components.perRequest must not be negative, got "-0.002"'],
      [{ ...json, components: { perSecond: "1e-6" } }, "components.perSecond must be written without an exponent"],
      [{ ...json, components: { perSecond: "0.0000000001" } }, "components.perSecond has more than 9 decimals"],
    ];
    for (const [input, message] of bad) expect(() => priceFromJson(input)).toThrow(message);
  });
});
