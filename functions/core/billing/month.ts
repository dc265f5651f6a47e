import { DEFAULT_MIN_AGE_SECONDS } from "../access";
import { ApiError, BadRequestError } from "../errors";

/**
 * Billing months: UTC calendar months, written `YYYY-MM`. A month is billed once it has
 * closed: past its end by the close delay, so that no request received in it can still write a
 * record (the longest request) and reconciliation has had its minimum age to find the gaps.
 */

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/**
 * The longest request (a streamed generation, at API Gateway's 15-minute streaming limit) plus
 * reconciliation's minimum age: 35 minutes after a month ends, its invoices may be issued.
 * Records that arrive later still (a repair, a stream far behind) are adjustments on the next one.
 */
export const DEFAULT_INVOICE_CLOSE_DELAY_SECONDS = 15 * 60 + DEFAULT_MIN_AGE_SECONDS;

/** Issuing a month that has not closed: a conflict with time, not a malformed request. */
export class MonthNotClosedError extends ApiError {
  override readonly name = "MonthNotClosedError";
  readonly status = 409;
  readonly type = "month_not_closed";
}

/** `YYYY-MM`, or a 400 naming `label`. */
export function parseMonth(text: unknown, label = "month"): string {
  if (typeof text !== "string" || !MONTH.test(text)) {
    throw new BadRequestError(`'${label}' must be a month written YYYY-MM (2026-11), got ${JSON.stringify(text)}`);
  }
  return text;
}

export const isMonth = (text: unknown): text is string => typeof text === "string" && MONTH.test(text);

/** Epoch ms of the month's first instant. */
export function monthStart(month: string): number {
  return Date.parse(`${parseMonth(month)}-01T00:00:00.000Z`);
}

/** The month after `month`. */
export function nextMonth(month: string): string {
  const d = new Date(monthStart(month));
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 7);
}

/** The month `at` (epoch ms) falls in. */
export const monthOf = (at: number): string => new Date(at).toISOString().slice(0, 7);

/** Epoch ms of the month's end: the first instant of the next month (exclusive). */
export const monthEnd = (month: string): number => monthStart(nextMonth(month));

/** The days of the month, `YYYY-MM-DD`, in order. */
export function daysOf(month: string): string[] {
  const days: string[] = [];
  for (let t = monthStart(month); t < monthEnd(month); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** When the month's invoices may be issued. */
export const closesAt = (month: string, closeDelaySeconds: number): number => monthEnd(month) + closeDelaySeconds * 1000;

/** The month as a time range: [from, to), ISO. */
export function periodOf(month: string): { readonly from: string; readonly to: string } {
  return { from: new Date(monthStart(month)).toISOString(), to: new Date(monthEnd(month)).toISOString() };
}

/** A 409 unless the month has closed at `now`. */
export function requireClosed(month: string, now: number, closeDelaySeconds: number): void {
  const at = closesAt(month, closeDelaySeconds);
  if (now < at) {
    throw new MonthNotClosedError(
      `month ${month} has not closed: its invoices can be issued from ${new Date(at).toISOString()} ` +
        `(${closeDelaySeconds / 60} minutes after the month ends, once no request of it can still be recorded); ` +
        "preview it as a draft meanwhile",
    );
  }
}
