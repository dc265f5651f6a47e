import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  addMoney,
  CurrencyMismatchError,
  formatAmount,
  InvalidAmountError,
  type InvalidAmountReason,
  InvalidCurrencyError,
  minorUnitDigits,
  moneyFromJson,
  parseAmount,
  parseBudgetAmount,
  parseCurrency,
  parsePriceAmount,
  sumAmounts,
  sumMoney,
  toMoneyJson,
} from "../../functions/core/money/amount";

const reasonOf = (f: () => unknown): InvalidAmountReason | undefined => {
  try {
    f();
  } catch (err) {
    if (err instanceof InvalidAmountError) return err.reason;
    throw err;
  }
  return undefined;
};

/** Any amount parseAmount accepts: up to 18 whole digits and 9 decimals. */
const anyAmount = fc.bigInt({ min: 0n, max: 10n ** 27n - 1n });

describe("money amounts (core)", () => {
  it("parses decimal strings to exact nano-units", () => {
    expect(parseAmount("0.15")).toBe(150_000_000n);
    expect(parseAmount("12")).toBe(12_000_000_000n);
    expect(parseAmount("0.000000001")).toBe(1n);
    expect(parseAmount("0")).toBe(0n);
    expect(parseAmount("007.50")).toBe(7_500_000_000n);
    // 0.1 + 0.2 is exact here, unlike binary floats.
    expect(parseAmount("0.1") + parseAmount("0.2")).toBe(parseAmount("0.3"));
  });

  it("formats the canonical decimal: fewest digits, no trailing zeros, no point when whole", () => {
    expect(formatAmount(0n)).toBe("0");
    expect(formatAmount(123_000n)).toBe("0.000123");
    expect(formatAmount(1_500_000_000n)).toBe("1.5");
    expect(formatAmount(12_000_000_000n)).toBe("12");
    expect(formatAmount(1n)).toBe("0.000000001");
    expect(formatAmount(-1_500_000_000n)).toBe("-1.5");
  });

  it("parse ∘ format is the identity on amounts, and format ∘ parse on canonical text", () => {
    fc.assert(
      fc.property(anyAmount, (nano) => {
        const text = formatAmount(nano);
        expect(text).toMatch(/^(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/);
        expect(parseAmount(text)).toBe(nano);
        expect(formatAmount(parseAmount(text))).toBe(text);
      }),
    );
  });

  it("keeps amounts beyond 2^53 nano-units exact", () => {
    const big = "123456789012345678.123456789";
    expect(parseAmount(big)).toBe(123456789012345678123456789n);
    expect(formatAmount(parseAmount(big))).toBe(big);
    // 2^53 + 1 nano-units is not a float; as a bigint it adds exactly.
    const past = 2n ** 53n + 1n;
    expect(formatAmount(past + past)).toBe(formatAmount(2n ** 54n + 2n));
    expect(sumAmounts([past, past, 1n])).toBe(2n ** 54n + 3n);
    fc.assert(
      fc.property(fc.array(anyAmount, { maxLength: 30 }), (amounts) => {
        const total = sumAmounts(amounts);
        expect(typeof total).toBe("bigint");
        // the sum of the texts, re-parsed, is the sum of the amounts whatever their size
        expect(sumAmounts(amounts.map((a) => parseAmount(formatAmount(a))))).toBe(total);
        expect(sumAmounts([...amounts].reverse())).toBe(total);
      }),
    );
  });

  it("refuses what is not an exact non-negative decimal, saying what was wrong", () => {
    const cases: Array<[string, InvalidAmountReason]> = [
      ["", "empty"],
      ["-1", "negative"],
      ["-0.5", "negative"],
      ["1e3", "exponent"],
      ["1.5E-4", "exponent"],
      ["abc", "not-a-number"],
      ["-abc", "not-a-number"],
      ["NaN", "not-a-number"],
      ["Infinity", "not-a-number"],
      [" 1", "not-a-number"],
      ["1,5", "not-a-number"],
      [".5", "not-a-number"],
      ["5.", "not-a-number"],
      ["+1", "not-a-number"],
      ["0x10", "not-a-number"],
      ["0.0000000001", "too-many-decimals"],
      ["0.1000000000", "too-many-decimals"],
      ["1000000000000000000", "too-large"],
    ];
    for (const [text, reason] of cases) expect([text, reasonOf(() => parseAmount(text))]).toEqual([text, reason]);
    expect(() => parsePriceAmount("-0.15", "--input-price")).toThrow('--input-price must not be negative, got "-0.15"');
    expect(() => parsePriceAmount("1.5e-4")).toThrow('price must be written without an exponent (0.00015, not 1.5e-4), got "1.5e-4"');
    expect(() => parsePriceAmount("0.0000000001")).toThrow('price has more than 9 decimals, got "0.0000000001"');
    // Anything else either parses or is refused with a reason: never a SyntaxError or RangeError from BigInt.
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^-?[0-9]{0,20}(\.[0-9]{0,12})?([eE][-+]?[0-9]{1,3})?$/)), (text) => {
        const reason = reasonOf(() => parseAmount(text));
        if (reason === undefined) expect(/^[0-9]+(\.[0-9]{1,9})?$/.test(text)).toBe(true);
      }),
    );
    expect(() => parseAmount("ten")).toThrow(
      new InvalidAmountError("not-a-number", "ten", 'amount must be a decimal number such as 0.15 or 12, got "ten"'),
    );
  });

  it("refuses a budget finer than its currency's minor unit, trailing zeros aside", () => {
    expect(parseBudgetAmount("10.25", "USD")).toBe(10_250_000_000n);
    expect(parseBudgetAmount("10.500", "USD")).toBe(10_500_000_000n);
    expect(parseBudgetAmount("5000", "JPY")).toBe(5000n * 10n ** 9n);
    expect(parseBudgetAmount("1.125", "BHD")).toBe(1_125_000_000n);
    expect(() => parseBudgetAmount("10.005", "USD", "--budget")).toThrow('--budget is finer than USD\'s 2 decimals, got "10.005"');
    expect(() => parseBudgetAmount("0.5", "JPY")).toThrow('budget is finer than JPY\'s 0 decimals, got "0.5"');
    expect(reasonOf(() => parseBudgetAmount("0.001", "EUR"))).toBe("finer-than-minor-unit");
    // A price is precise to the nano-unit: the same text is a fine price.
    expect(parsePriceAmount("10.005")).toBe(10_005_000_000n);
  });

  it("knows ISO 4217 minor units for its table and defaults to 2", () => {
    expect([
      minorUnitDigits("USD"),
      minorUnitDigits("EUR"),
      minorUnitDigits("GBP"),
      minorUnitDigits("CHF"),
      minorUnitDigits("JPY"),
    ]).toEqual([2, 2, 2, 2, 0]);
    expect(minorUnitDigits("XYZ")).toBe(2);
    expect(parseCurrency("EUR")).toBe("EUR");
    for (const bad of ["usd", "US", "USDX", "", 840, null]) expect(() => parseCurrency(bad)).toThrow(InvalidCurrencyError);
    expect(() => parseCurrency("usd", "budget.currency")).toThrow(
      'budget.currency must be an ISO 4217 code of three capital letters (USD, EUR), got "usd"',
    );
  });

  it("carries money in JSON as a decimal string with its currency", () => {
    expect(toMoneyJson({ amount: 150_000_000n, currency: "USD" })).toEqual({ amount: "0.15", currency: "USD" });
    expect(moneyFromJson({ amount: "0.15", currency: "USD" })).toEqual({ amount: 150_000_000n, currency: "USD" });
    expect(JSON.parse(JSON.stringify(toMoneyJson({ amount: 2n ** 60n, currency: "EUR" })))).toEqual({
      amount: "1152921504.606846976",
      currency: "EUR",
    });
    expect(() => moneyFromJson({ amount: 0.15, currency: "USD" }, { label: "budget" })).toThrow(
      'budget.amount must be a decimal string such as "0.15", got 0.15',
    );
    expect(() => moneyFromJson({ amount: "1", currency: "dollars" })).toThrow(InvalidCurrencyError);
    expect(() => moneyFromJson({ amount: "0.001", currency: "USD" }, { digits: 2 })).toThrow("money.amount is finer than USD's 2 decimals");
    expect(() => moneyFromJson("1 USD")).toThrow("money must be an object { amount, currency }");
    fc.assert(
      fc.property(anyAmount, fc.constantFrom("USD", "EUR", "JPY"), (amount, currency) => {
        expect(moneyFromJson(JSON.parse(JSON.stringify(toMoneyJson({ amount, currency }))))).toEqual({ amount, currency });
      }),
    );
  });

  it("adds money of one currency only", () => {
    expect(addMoney({ amount: 1n, currency: "USD" }, { amount: 2n, currency: "USD" })).toEqual({ amount: 3n, currency: "USD" });
    expect(sumMoney([], "EUR")).toEqual({ amount: 0n, currency: "EUR" });
    expect(() =>
      sumMoney(
        [
          { amount: 1n, currency: "USD" },
          { amount: 1n, currency: "EUR" },
        ],
        "USD",
      ),
    ).toThrow(CurrencyMismatchError);
  });
});
