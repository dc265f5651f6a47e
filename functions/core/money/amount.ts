import { ApiError } from "../errors";

/**
 * Exact money. An amount is an integer count of nano-units (1e-9 of the currency's unit: a
 * nano-dollar) held as a `bigint`, never a binary float: prices, costs, budgets and invoices
 * add integers, so no sum depends on the order it was added in. JSON carries amounts as
 * decimal strings beside a currency code (`{ "amount": "0.15", "currency": "USD" }`).
 *
 * The nano-unit is fine enough for per-token prices ($0.15 per million tokens is 150 nano-units
 * a thousand tokens) and coarse enough that any real sum fits a DynamoDB number (38 digits).
 */

/** Decimal digits of a nano-unit: the finest precision any amount has. */
export const NANO_DIGITS = 9;
export const NANO_PER_UNIT = 1_000_000_000n;

/**
 * Most digits of whole units an amount may have (up to 10^18 − 1 units, about 10^27 nano-units):
 * far above any price or budget, and it leaves a stored amount and long sums of them within
 * DynamoDB's 38 significant digits.
 */
export const MAX_UNIT_DIGITS = 18;

/** Why an amount was refused; tests and callers branch on it, people read the message. */
export type InvalidAmountReason =
  | "empty"
  | "negative"
  | "exponent"
  | "not-a-number"
  | "too-many-decimals"
  | "finer-than-minor-unit"
  | "too-large";

/** An amount a caller wrote (CLI flag, admin body, config) that is not an exact, non-negative decimal. */
export class InvalidAmountError extends ApiError {
  override readonly name = "InvalidAmountError";
  readonly status = 400;
  readonly type = "invalid_request";
  constructor(
    readonly reason: InvalidAmountReason,
    readonly input: string,
    message: string,
  ) {
    super(message);
  }
}

/** A currency code that is not three capital letters (ISO 4217 form). */
export class InvalidCurrencyError extends ApiError {
  override readonly name = "InvalidCurrencyError";
  readonly status = 400;
  readonly type = "invalid_request";
}

/**
 * Amounts in two currencies met in one sum. Always a bug upstream (a price and a budget are
 * checked for currency where they are set), so it is a plain Error: a 500 that says nothing.
 */
export class CurrencyMismatchError extends Error {
  override readonly name = "CurrencyMismatchError";
}

const CURRENCY = /^[A-Z]{3}$/;

/**
 * ISO 4217 minor-unit exponents of the currencies we expect; any other well-formed code gets
 * the common 2. Budgets are refused past the minor unit (no budget of 10.005 dollars).
 */
const MINOR_UNIT_DIGITS: Readonly<Record<string, number>> = {
  USD: 2,
  EUR: 2,
  GBP: 2,
  CHF: 2,
  CAD: 2,
  AUD: 2,
  CNY: 2,
  INR: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  JPY: 0,
  KRW: 0,
  BHD: 3,
  KWD: 3,
};
export const DEFAULT_MINOR_UNIT_DIGITS = 2;

export const isCurrency = (code: unknown): code is string => typeof code === "string" && CURRENCY.test(code);

/** The code itself, or an error naming `label` and what was given. */
export function parseCurrency(code: unknown, label = "currency"): string {
  if (!isCurrency(code))
    throw new InvalidCurrencyError(`${label} must be an ISO 4217 code of three capital letters (USD, EUR), got ${show(code)}`);
  return code;
}

/** Decimal digits of the currency's minor unit (USD 2: cents; JPY 0). */
export function minorUnitDigits(currency: string): number {
  return MINOR_UNIT_DIGITS[parseCurrency(currency)] ?? DEFAULT_MINOR_UNIT_DIGITS;
}

export interface ParseAmountOptions {
  /**
   * Finest precision accepted, in decimal digits: a non-zero digit past it is refused.
   * @default NANO_DIGITS (a price's sub-unit)
   */
  readonly digits?: number;
  /** What the amount is, for messages (`--budget`, `perMillionInput`). @default "amount" */
  readonly label?: string;
  /** Named in the message when `digits` refuses an amount (`finer than USD's 2 decimals`). */
  readonly currency?: string;
}

const DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;
const EXPONENT = /^\+?[0-9]*\.?[0-9]+[eE][-+]?[0-9]+$/;

/**
 * A non-negative decimal string to nano-units, exactly. Only plain decimals are read: no sign,
 * no exponent, no spaces, no `.5` or `5.`; at most NANO_DIGITS fractional digits (a trailing
 * zero counts: the text, not only the value, must be exact). Past `options.digits`, trailing
 * zeros are allowed (`"10.500"` is 10.50 dollars) and any other digit is refused.
 */
export function parseAmount(text: string, options: ParseAmountOptions = {}): bigint {
  const label = options.label ?? "amount";
  const digits = options.digits ?? NANO_DIGITS;
  const refuse = (reason: InvalidAmountReason, why: string) => new InvalidAmountError(reason, text, `${label} ${why}, got ${show(text)}`);
  if (typeof text !== "string" || text.length === 0) throw refuse("empty", "must be a decimal number");
  const m = DECIMAL.exec(text);
  if (!m) {
    if (/^-[0-9]/.test(text) && !Number.isNaN(Number(text))) throw refuse("negative", "must not be negative");
    if (EXPONENT.test(text)) throw refuse("exponent", "must be written without an exponent (0.00015, not 1.5e-4)");
    throw refuse("not-a-number", "must be a decimal number such as 0.15 or 12");
  }
  const whole = (m[1] ?? "0").replace(/^0+(?=[0-9])/, "");
  const fraction = m[2] ?? "";
  if (whole.length > MAX_UNIT_DIGITS) throw refuse("too-large", `must be below 10^${MAX_UNIT_DIGITS}`);
  if (fraction.length > NANO_DIGITS) throw refuse("too-many-decimals", `has more than ${NANO_DIGITS} decimals`);
  if (/[1-9]/.test(fraction.slice(digits))) {
    const unit = options.currency ? `${options.currency}'s ${digits} decimals` : `${digits} decimals`;
    throw refuse("finer-than-minor-unit", `is finer than ${unit}`);
  }
  return BigInt(whole) * NANO_PER_UNIT + BigInt(fraction.padEnd(NANO_DIGITS, "0"));
}

/** A price component: precise to the nano-unit. */
export const parsePriceAmount = (text: string, label = "price"): bigint => parseAmount(text, { label });

/** A budget: precise to the currency's minor unit (cents for USD, whole yen for JPY). */
export const parseBudgetAmount = (text: string, currency: string, label = "budget"): bigint =>
  parseAmount(text, { label, digits: minorUnitDigits(currency), currency });

/**
 * The canonical decimal text of an amount: the fewest digits that state it exactly. No
 * leading zeros, no trailing fractional zeros, no point when whole: `0`, `12`, `1.5`,
 * `0.000123`, `0.000000001`. A negative amount (a credit, a difference) gets a leading `-`;
 * `parseAmount` reads back every non-negative one.
 */
export function formatAmount(nano: bigint): string {
  if (nano < 0n) return `-${formatAmount(-nano)}`;
  const whole = nano / NANO_PER_UNIT;
  const fraction = (nano % NANO_PER_UNIT).toString().padStart(NANO_DIGITS, "0").replace(/0+$/, "");
  return fraction.length === 0 ? whole.toString() : `${whole}.${fraction}`;
}

export const addAmounts = (a: bigint, b: bigint): bigint => a + b;

export function sumAmounts(amounts: Iterable<bigint>): bigint {
  let total = 0n;
  for (const a of amounts) total += a;
  return total;
}

/** An amount in a currency. */
export interface Money {
  /** Nano-units. */
  readonly amount: bigint;
  readonly currency: string;
}

/** Money as JSON carries it: a canonical decimal string and an ISO 4217 code. */
export interface MoneyJson {
  readonly amount: string;
  readonly currency: string;
}

export const toMoneyJson = (m: Money): MoneyJson => ({ amount: formatAmount(m.amount), currency: m.currency });

/** Reads `{ amount, currency }` from untrusted JSON, at the nano-unit unless `digits` says coarser. */
export function moneyFromJson(json: unknown, options: { readonly label?: string; readonly digits?: number } = {}): Money {
  const label = options.label ?? "money";
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InvalidAmountError("not-a-number", show(json), `${label} must be an object { amount, currency }, got ${show(json)}`);
  }
  const { amount, currency } = json as Record<string, unknown>;
  const code = parseCurrency(currency, `${label}.currency`);
  if (typeof amount !== "string") {
    throw new InvalidAmountError(
      "not-a-number",
      show(amount),
      `${label}.amount must be a decimal string such as "0.15", got ${show(amount)}`,
    );
  }
  return {
    amount: parseAmount(amount, {
      label: `${label}.amount`,
      currency: code,
      ...(options.digits === undefined ? {} : { digits: options.digits }),
    }),
    currency: code,
  };
}

export function addMoney(a: Money, b: Money): Money {
  if (a.currency !== b.currency) throw new CurrencyMismatchError(`cannot add ${b.currency} to ${a.currency}`);
  return { amount: a.amount + b.amount, currency: a.currency };
}

/** The sum in `currency` (named so that an empty list has one). */
export function sumMoney(items: Iterable<Money>, currency: string): Money {
  let total: Money = { amount: 0n, currency };
  for (const m of items) total = addMoney(total, m);
  return total;
}

/** Untrusted input shown in a message: quoted, and short. */
function show(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}n` : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
