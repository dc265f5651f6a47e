import type { LimitsView } from "../../../functions/core/limits/views";
import { field, h } from "../dom";

/** Limits as the API has them (the core's view): positive integers, and the budget a decimal string. */
export type Limits = { -readonly [K in keyof LimitsView]: LimitsView[K] };

const INTEGER_LIMITS: ReadonlyArray<[Exclude<keyof Limits, "monthlyBudget" | "budgetAlertPercents">, string]> = [
  ["ratePerSecond", "Requests per second"],
  ["burst", "Burst"],
  ["tokensPerMinute", "Tokens per minute"],
  ["monthlyRequests", "Requests per month"],
  ["monthlyTokens", "Tokens per month"],
  ["concurrency", "Concurrent requests"],
];

/** Inputs for a set of limits (empty: no limit), named `limit.<field>`. */
export function limitsFieldset(legend: string, current: Limits = {}, currency = ""): HTMLFieldSetElement {
  return h(
    "fieldset",
    { class: "limits" },
    h("legend", {}, legend),
    ...INTEGER_LIMITS.map(([k, label]) =>
      field(label, h("input", { name: `limit.${k}`, type: "number", min: 1, step: 1, inputmode: "numeric", value: current[k] ?? "" })),
    ),
    field(
      `Monthly budget${currency ? ` (${currency})` : ""}`,
      h("input", {
        name: "limit.monthlyBudget",
        inputmode: "decimal",
        pattern: "^(0|[1-9][0-9]*)(\\.[0-9]{1,9})?$",
        value: current.monthlyBudget ?? "",
      }),
      "a decimal amount, e.g. 25.00; empty: no budget",
    ),
  );
}

/** The limits a form's `limit.*` inputs hold: empty inputs are left out (no limit). */
export function readLimits(values: Record<string, string>): Limits {
  const out: Limits = {};
  for (const [k] of INTEGER_LIMITS) {
    const v = values[`limit.${k}`];
    if (v) (out as Record<string, number>)[k] = Number(v);
  }
  if (values["limit.monthlyBudget"]) out.monthlyBudget = values["limit.monthlyBudget"];
  return out;
}

/** A one-line summary of limits for a table cell. */
export function limitsSummary(l: Limits | undefined): string {
  if (!l) return "none";
  const parts: string[] = [];
  if (l.ratePerSecond) parts.push(`${l.ratePerSecond}/s`);
  if (l.tokensPerMinute) parts.push(`${l.tokensPerMinute} tok/min`);
  if (l.monthlyRequests) parts.push(`${l.monthlyRequests} req/month`);
  if (l.monthlyTokens) parts.push(`${l.monthlyTokens} tok/month`);
  if (l.concurrency) parts.push(`${l.concurrency} at once`);
  if (l.monthlyBudget) parts.push(`budget ${l.monthlyBudget}/month`);
  return parts.length ? parts.join(", ") : "none";
}
