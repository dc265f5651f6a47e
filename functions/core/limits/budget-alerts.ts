/**
 * Budget alerts ("Alerts before the wall", issue 22): each threshold of a subject's monthly
 * budget (default 50, 80 and 100 percent) is announced once a month. The ledger decides a
 * crossing from the spend its own atomic write returned (before = after − delta, see
 * money/thresholds.ts), claims the announcement with a conditional write on the month's budget
 * cell, and only the claimant publishes, so concurrent writers announce it once.
 *
 * Delivery is at most once: a claim whose publish then fails is not announced again (the
 * failure is reported to the ledger's `onAlertError`). An alert never fails a request.
 */

/** One threshold of one subject's monthly budget, reached. Amounts are decimal strings in the platform currency. */
export interface BudgetAlert {
  readonly tenantId: string;
  /** The key whose own budget it is (a rotated key's predecessor, whose counters it keeps); absent for the tenant's budget. */
  readonly keyId?: string;
  /** The month's budget. */
  readonly budget: string;
  /** Spent and reserved this month when the threshold was crossed. */
  readonly spent: string;
  readonly thresholdPercent: number;
  /** `yyyy-mm` (UTC). */
  readonly month: string;
}

/** Where alerts go: EventBridge in the cloud (functions/aws/eventbridge-budget-alerts.ts), the log locally. */
export interface BudgetAlertSink {
  publish(alert: BudgetAlert): Promise<void>;
}

/** What a sink that only logs needs of a logger (Powertools' Logger has it). */
export interface AlertLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

/** The local host's sink: one log line per alert. */
export class LoggedBudgetAlerts implements BudgetAlertSink {
  constructor(private readonly log: AlertLogger) {}

  async publish(alert: BudgetAlert): Promise<void> {
    this.log.warn("budget threshold reached", { budgetAlert: alert });
  }
}
