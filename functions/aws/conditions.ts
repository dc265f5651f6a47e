import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";

/**
 * The one translation of DynamoDB's failed conditions: adapters state what a failed condition
 * means (a domain error, or "nothing to do") and never test exception classes themselves.
 */

/** Whether a write failed its condition (by name too: a bundle may hold a second copy of the SDK's classes). */
export function isConditionFailed(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/**
 * Awaits a conditional write; when its condition fails, answers what `onFailed` returns (or
 * throws what it throws: the domain error). Any other error passes through.
 */
export async function whenConditionFails<T, F = never>(write: Promise<T>, onFailed: (cause: unknown) => F): Promise<T | F> {
  try {
    return await write;
  } catch (err) {
    if (isConditionFailed(err)) return onFailed(err);
    throw err;
  }
}

/**
 * Awaits a transaction; when it is cancelled, `onCancelled` gets, in item order, whether each
 * item's condition failed, and throws the domain error or returns. Other errors, and
 * cancellations `onCancelled` returns from, pass through as they came.
 */
export async function whenTransactionCancelled<T>(
  write: Promise<T>,
  onCancelled: (failed: readonly boolean[], cause: unknown) => void,
): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof TransactionCanceledException || (err as { name?: unknown } | null)?.name === "TransactionCanceledException") {
      const reasons = (err as TransactionCanceledException).CancellationReasons ?? [];
      onCancelled(
        reasons.map((r) => r.Code === "ConditionalCheckFailed"),
        err,
      );
    }
    throw err;
  }
}
