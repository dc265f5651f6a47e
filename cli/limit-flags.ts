import type { Command } from "commander";
import type { LimitsView } from "../functions/core/limits/views";
import { InvalidAmountError, parseAmount } from "../functions/core/money/amount";
import { argumentError } from "./errors";

/**
 * The limit flags shared by `tenants create|update` and `keys create|update`, and how limits
 * are shown. The API validates the values again; the CLI only catches typos early.
 */
export type Limits = { -readonly [K in keyof LimitsView]: LimitsView[K] };

export interface LimitFlags {
  rate?: string;
  burst?: string;
  tokensPerMinute?: string;
  monthlyRequests?: string;
  monthlyTokens?: string;
  concurrency?: string;
  monthlyBudget?: string;
}

/**
 * Decimals a `--monthly-budget` may have. The CLI does not know the platform currency, so it
 * checks the common minor unit (cents); the API checks the platform currency's again.
 */
export const BUDGET_FLAG_DECIMALS = 2;

type IntegerFlag = Exclude<keyof LimitFlags, "monthlyBudget">;

const LIMIT_FLAGS: ReadonlyArray<readonly [IntegerFlag, Exclude<keyof Limits, "monthlyBudget" | "budgetAlertPercents">, string, string]> = [
  ["rate", "ratePerSecond", "--rate <rps>", "sustained requests per second"],
  ["burst", "burst", "--burst <n>", "requests allowed at once on top of the rate (default: the rate)"],
  ["tokensPerMinute", "tokensPerMinute", "--tokens-per-minute <n>", "model tokens per minute (UTC clock minutes)"],
  ["monthlyRequests", "monthlyRequests", "--monthly-requests <n>", "requests per calendar month (UTC)"],
  ["monthlyTokens", "monthlyTokens", "--monthly-tokens <n>", "model tokens per calendar month (UTC)"],
  ["concurrency", "concurrency", "--concurrency <n>", "requests in flight at once"],
];

export function withLimitOptions(cmd: Command): Command {
  for (const [, , flag, help] of LIMIT_FLAGS) cmd.option(flag, help);
  cmd.option("--monthly-budget <amount>", "money per calendar month (UTC) in the platform currency, e.g. 25.00");
  return cmd;
}

/** The limits given as flags (positive integers; the budget a decimal amount), or undefined when none was given. */
export function limitsFrom(o: LimitFlags): Limits | undefined {
  const out: Limits = {};
  for (const [flag, field, spelled] of LIMIT_FLAGS) {
    const raw = o[flag];
    if (raw === undefined) continue;
    if (!/^[1-9]\d*$/.test(raw)) throw argumentError(`${spelled.split(" ")[0]} takes a positive integer, got '${raw}'`);
    out[field] = Number(raw);
  }
  if (o.monthlyBudget !== undefined) out.monthlyBudget = budgetFlag(o.monthlyBudget);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `--monthly-budget`: a positive decimal amount with at most BUDGET_FLAG_DECIMALS decimals, sent as written. */
function budgetFlag(raw: string): string {
  let nano: bigint;
  try {
    nano = parseAmount(raw, { digits: BUDGET_FLAG_DECIMALS, label: "--monthly-budget" });
  } catch (err) {
    if (err instanceof InvalidAmountError) throw argumentError(`${err.message} (an amount such as 25.00)`);
    throw err;
  }
  if (nano === 0n) throw argumentError(`--monthly-budget must be more than 0, got '${raw}'`);
  return raw;
}

export const describeLimits = (l: Limits | undefined) =>
  !l || Object.keys(l).length === 0
    ? "(none)"
    : [
        l.ratePerSecond !== undefined ? `${l.ratePerSecond}/s burst ${l.burst ?? l.ratePerSecond}` : undefined,
        l.tokensPerMinute !== undefined ? `${l.tokensPerMinute} tokens/min` : undefined,
        l.monthlyRequests !== undefined ? `${l.monthlyRequests} requests/month` : undefined,
        l.monthlyTokens !== undefined ? `${l.monthlyTokens} tokens/month` : undefined,
        l.concurrency !== undefined ? `${l.concurrency} concurrent` : undefined,
        l.monthlyBudget !== undefined ? `budget ${l.monthlyBudget}/month` : undefined,
      ]
        .filter(Boolean)
        .join(", ");

/**
 * The limits an update sends, or undefined when it changes none. The API replaces the whole
 * set, so the flags are merged into the current limits (read only when needed);
 * `--clear-limits` starts from none.
 */
export async function limitsUpdate(
  o: LimitFlags & { readonly clearLimits?: boolean | undefined },
  current: () => Promise<Limits | undefined>,
): Promise<Limits | undefined> {
  const changed = limitsFrom(o);
  if (!changed && !o.clearLimits) return undefined;
  const base = changed && !o.clearLimits ? await current() : {};
  return { ...(base ?? {}), ...(changed ?? {}) };
}
