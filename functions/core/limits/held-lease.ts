/** A quota lease as its holder knows it, and what one admission asks of it (see quota-leases.ts). */
import type { CounterKey, Counts, LeaseReturn, QuotaLease } from "./cells";

/** One admission's view of a month's quotas. */
export interface QuotaNeed {
  readonly subject: string;
  readonly key: CounterKey;
  readonly requestQuota: number | undefined;
  readonly tokenQuota: number | undefined;
  /** Tokens the request reserves (0 without a token quota). */
  readonly reserve: number;
  readonly now: number;
}

export type QuotaAdmission =
  | { readonly ok: true; readonly lease: HeldLease; readonly used: Counts }
  | { readonly ok: false; readonly limit: "monthlyRequests" | "monthlyTokens"; readonly busy: boolean; readonly used: Counts };

type LeaseState = "live" | "returned" | "lost";

/** A lease as its holder knows it. `tokensLeft` goes negative when settlements exceed reservations. */
export class HeldLease {
  state: LeaseState = "live";
  requestsLeft: number;
  tokensLeft: number;
  admitted = 0;
  constructor(
    readonly granted: QuotaLease,
    readonly key: CounterKey,
    readonly requestQuota: number | undefined,
    readonly tokenQuota: number | undefined,
  ) {
    this.requestsLeft = granted.requests;
    this.tokensLeft = granted.tokens;
  }

  get id(): string {
    return this.granted.id;
  }

  /** What ending it now gives back. */
  rest(): LeaseReturn {
    return {
      id: this.id,
      requests: this.requestQuota === undefined ? 0 : this.requestsLeft,
      tokens: this.tokenQuota === undefined ? 0 : this.tokensLeft,
    };
  }
}

/** Whether `lease` can admit this request now, under the quotas it was taken for. */
export function fits(lease: HeldLease, need: QuotaNeed): boolean {
  return (
    lease.state === "live" &&
    need.now < lease.granted.untilMs &&
    lease.requestQuota === need.requestQuota &&
    lease.tokenQuota === need.tokenQuota &&
    (need.requestQuota === undefined || lease.requestsLeft >= 1) &&
    (need.tokenQuota === undefined || lease.tokensLeft >= Math.max(1, need.reserve))
  );
}
