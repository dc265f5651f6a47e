import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "@jest/globals";
import { whenConditionFails, whenTransactionCancelled } from "../../functions/aws/conditions";
import { ConflictError } from "../../functions/core/errors";

const conditionFailed = () => new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: "cancelled", $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

describe("failed conditions → domain errors, in one place", () => {
  it("a failed condition becomes what the adapter says it means; other errors pass through", async () => {
    expect(await whenConditionFails(Promise.resolve(1), () => 0)).toBe(1);
    expect(await whenConditionFails(Promise.reject(conditionFailed()), () => 0)).toBe(0);
    // By name too: a bundle may carry a second copy of the SDK's error classes.
    expect(
      await whenConditionFails(Promise.reject(Object.assign(new Error("x"), { name: "ConditionalCheckFailedException" })), () => 0),
    ).toBe(0);
    const boom = new Error("throttled");
    await expect(whenConditionFails(Promise.reject(boom), () => 0)).rejects.toBe(boom);
    await expect(
      whenConditionFails(Promise.reject(conditionFailed()), (cause) => {
        throw new ConflictError("taken", { cause });
      }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it("a cancelled transaction reports, per item, whether its condition failed", async () => {
    const seen: boolean[][] = [];
    const err = cancelled("None", "ConditionalCheckFailed");
    await expect(whenTransactionCancelled(Promise.reject(err), (failed) => void seen.push([...failed]))).rejects.toBe(err);
    expect(seen).toEqual([[false, true]]);
    await expect(
      whenTransactionCancelled(Promise.reject(cancelled("ConditionalCheckFailed")), ([first], cause) => {
        if (first) throw new ConflictError("stale", { cause });
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    const other = new Error("network");
    await expect(whenTransactionCancelled(Promise.reject(other), () => undefined)).rejects.toBe(other);
  });
});
