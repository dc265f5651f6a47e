import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { describe, expect, it, jest } from "@jest/globals";
import { mockClient } from "aws-sdk-client-mock";
import { CliError, EXIT } from "../../cli/errors";
import { describeLimits, limitsFrom, limitsUpdate } from "../../cli/limit-flags";
import { run } from "../../cli/main";
import { createKeyBody, createTenantBody, keyLimitsBody, updateTenantBody } from "../../functions/admin/schemas";
import { EventBridgeBudgetAlerts } from "../../functions/aws/eventbridge-budget-alerts";
import { BadRequestError } from "../../functions/core/errors";
import { type BudgetAlert, LoggedBudgetAlerts } from "../../functions/core/limits/budget-alerts";
import { limitsView } from "../../functions/core/limits/views";
import { tenantView } from "../../functions/core/tenants";
import { parseWith } from "../../functions/http/respond";

const UNIT = 1_000_000_000;
const tenant = (limits: unknown) => ({ tenantId: "acme", models: ["*"], limits });

/** The 400 message a body gets, or the parsed body. */
function admin400(schema: Parameters<typeof parseWith>[0], body: unknown): string {
  try {
    parseWith(schema, body);
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestError);
    return (err as Error).message;
  }
  throw new Error("accepted");
}

describe("admin API: limits.monthlyBudget", () => {
  it("takes a decimal string in the platform currency (USD: to the cent) and stores nano-units", () => {
    expect(parseWith(createTenantBody, tenant({ monthlyBudget: "25.00", monthlyTokens: 10 })).limits).toEqual({
      monthlyBudget: 25 * UNIT,
      monthlyTokens: 10,
    });
    expect(parseWith(keyLimitsBody, { limits: { monthlyBudget: "0.5", budgetAlertPercents: [90] } }).limits).toEqual({
      monthlyBudget: UNIT / 2,
      budgetAlertPercents: [90],
    });
    expect(parseWith(createKeyBody, { limits: { monthlyBudget: "9007199.25" } }).limits).toEqual({ monthlyBudget: 9_007_199_250_000_000 });
    expect(parseWith(updateTenantBody, { limits: { monthlyBudget: "10.500" } }).limits).toEqual({ monthlyBudget: 10.5 * UNIT });
  });

  it("answers 400 naming the field for a budget finer than the cent, negative, zero, not a number, a number, or too large", () => {
    expect(admin400(createTenantBody, tenant({ monthlyBudget: "25.005" }))).toBe(
      'limits: monthlyBudget is finer than USD\'s 2 decimals, got "25.005"',
    );
    expect(admin400(createTenantBody, tenant({ monthlyBudget: "-5" }))).toBe('limits: monthlyBudget must not be negative, got "-5"');
    expect(admin400(keyLimitsBody, { limits: { monthlyBudget: "0.00" } })).toBe('limits: monthlyBudget must be more than 0, got "0.00"');
    expect(admin400(keyLimitsBody, { limits: { monthlyBudget: "lots" } })).toContain("limits: monthlyBudget must be a decimal number");
    expect(admin400(keyLimitsBody, { limits: { monthlyBudget: 25 } })).toBe(
      'limits: monthlyBudget must be a decimal string in USD such as "25.00", got 25',
    );
    expect(admin400(keyLimitsBody, { limits: { monthlyBudget: "9007199.26" } })).toBe(
      'limits: monthlyBudget must be at most 9007199.254740991 USD a month, got "9007199.26"',
    );
    expect(admin400(keyLimitsBody, { limits: { budgetAlertPercents: [50] } })).toBe("limits: budgetAlertPercents needs monthlyBudget");
  });

  it("shows the budget as a decimal string in GET answers (tenants and keys)", () => {
    expect(limitsView({ monthlyBudget: 25 * UNIT, concurrency: 2 })).toEqual({ monthlyBudget: "25", concurrency: 2 });
    const view = tenantView({
      tenantId: "acme",
      name: "Acme",
      models: ["*"],
      plan: "default",
      status: "active",
      createdAt: "2026-01-01T00:00:00.000Z",
      revision: 1,
      limits: { monthlyBudget: 12_340_000_000 },
    });
    expect(view.limits).toEqual({ monthlyBudget: "12.34" });
  });
});

describe("CLI: --monthly-budget", () => {
  it("passes the amount as written, and describeLimits shows it", async () => {
    expect(limitsFrom({ monthlyBudget: "25.00", concurrency: "2" })).toEqual({ concurrency: 2, monthlyBudget: "25.00" });
    expect(describeLimits({ monthlyBudget: "25", concurrency: 2 })).toBe("2 concurrent, budget 25/month");
    // An update merges the flag into the current limits as GET shows them (the budget a string).
    expect(await limitsUpdate({ monthlyBudget: "30" }, async () => ({ monthlyBudget: "25", monthlyTokens: 5 }))).toEqual({
      monthlyBudget: "30",
      monthlyTokens: 5,
    });
  });

  it.each([
    ["1.005", "--monthly-budget is finer than 2 decimals"],
    ["-5", "--monthly-budget must not be negative"],
    ["0", "--monthly-budget must be more than 0"],
    ["ten", "--monthly-budget must be a decimal number"],
    ["1e3", "--monthly-budget must be written without an exponent"],
  ])("refuses %s with exit 2 and a message naming the flag", (raw, message) => {
    let err: unknown;
    try {
      limitsFrom({ monthlyBudget: raw });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.badArguments);
    expect((err as CliError).message).toContain(message);
  });

  it.each([
    [["tenants", "create", "acme", "--models", "*", "--monthly-budget", "2.999"]],
    [["tenants", "update", "acme", "--monthly-budget=-1"]],
    [["keys", "create", "acme", "--monthly-budget", "abc"]],
    [["keys", "update", "acme", "AcmeKey000000001", "--monthly-budget", "0.001"]],
  ])("modelgate %j exits 2 before calling the API", async (args) => {
    const stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await run(["node", "modelgate", "--endpoint", "http://127.0.0.1:9", ...args])).toBe(EXIT.badArguments);
      expect(String(stderr.mock.calls.at(-1)?.[0])).toContain("--monthly-budget");
    } finally {
      stderr.mockRestore();
    }
  });
});

describe("budget alert sinks", () => {
  const alert: BudgetAlert = { tenantId: "acme", keyId: "KeyA", budget: "10", spent: "8", thresholdPercent: 80, month: "2026-06" };

  it("EventBridgeBudgetAlerts puts one event on the default bus: source modelgate, detail the alert", async () => {
    const events = mockClient(EventBridgeClient);
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "e1" }] });
    await new EventBridgeBudgetAlerts(new EventBridgeClient({ region: "us-east-1" })).publish(alert);
    const input = events.commandCalls(PutEventsCommand)[0]?.args[0].input;
    expect(input?.Entries).toEqual([
      { Source: "modelgate", DetailType: "Budget Threshold Reached", Detail: JSON.stringify(alert), EventBusName: "default" },
    ]);
    events
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: "ThrottlingException", ErrorMessage: "slow down" }] });
    await expect(new EventBridgeBudgetAlerts(new EventBridgeClient({ region: "us-east-1" })).publish(alert)).rejects.toThrow(
      "EventBridge refused the budget alert: ThrottlingException slow down",
    );
    events.restore();
  });

  it("LoggedBudgetAlerts writes one warning per alert", async () => {
    const lines: unknown[] = [];
    await new LoggedBudgetAlerts({ warn: (m, extra) => lines.push([m, extra]) }).publish(alert);
    expect(lines).toEqual([["budget threshold reached", { budgetAlert: alert }]]);
  });
});
