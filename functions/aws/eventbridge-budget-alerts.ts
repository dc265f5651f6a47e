import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { BudgetAlert, BudgetAlertSink } from "../core/limits/budget-alerts";

/** The event's `source` and `detail-type`: rules match on them (`{"source":["modelgate"],"detail-type":["Budget Threshold Reached"]}`). */
export const BUDGET_ALERT_SOURCE = "modelgate";
export const BUDGET_ALERT_DETAIL_TYPE = "Budget Threshold Reached";

/**
 * Budget alerts as EventBridge events on the account's default bus (or `eventBusName`), one
 * per threshold reached; `detail` is the alert itself (amounts as decimal strings in the
 * platform currency). The function needs `events:PutEvents` on that bus. A failed entry
 * rejects: the ledger reports it and the request goes on.
 */
export class EventBridgeBudgetAlerts implements BudgetAlertSink {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName = "default",
  ) {}

  async publish(alert: BudgetAlert): Promise<void> {
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: BUDGET_ALERT_SOURCE,
            DetailType: BUDGET_ALERT_DETAIL_TYPE,
            Detail: JSON.stringify(alert),
            EventBusName: this.eventBusName,
          },
        ],
      }),
    );
    // PutEvents answers 200 with per-entry failures.
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.[0];
      throw new Error(`EventBridge refused the budget alert: ${entry?.ErrorCode ?? "unknown"} ${entry?.ErrorMessage ?? ""}`.trim());
    }
  }
}
