import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/**
 * Tells the local host's pollers that this process has just written a table, so that a poller
 * can sleep long while nothing is written (an idle platform then costs next to nothing) and
 * still read a write at once. Writes by other processes are seen when the long sleep ends.
 */
export class TableWrites {
  private readonly sleepers = new Map<string, Set<() => void>>();

  /** `table` was written: every pause waiting on it ends now. */
  notify(table: string): void {
    const waiting = this.sleepers.get(table);
    if (!waiting) return;
    this.sleepers.delete(table);
    for (const wake of waiting) wake();
  }

  /** Resolves after `ms`, when this process next writes `table`, or when `signal` aborts, whichever comes first. */
  pause(table: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const waiting = this.sleepers.get(table) ?? new Set<() => void>();
      this.sleepers.set(table, waiting);
      const wake = () => {
        clearTimeout(timer);
        waiting.delete(wake);
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      // A pause alone does not keep the process alive (its owner's stop ends it anyway).
      const timer = setTimeout(wake, ms).unref();
      waiting.add(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });
  }
}

/**
 * How long a poller that found nothing `quietRuns` times in a row pauses: `baseMs` after the
 * first, doubling with each more, at most `capMs`.
 */
export function quietPauseMs(baseMs: number, capMs: number, quietRuns: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, quietRuns - 1));
}

/**
 * Has every successful write `client` makes (single items, transactions, batches; through a
 * document client built on it too) notify `writes` of the tables it wrote.
 */
export function notifyTableWrites(client: Pick<DynamoDBClient, "middlewareStack">, writes: TableWrites): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      for (const table of tablesWritten(context.commandName ?? "", args.input)) writes.notify(table);
      return out;
    },
    { step: "initialize", name: "notifyTableWrites", override: true },
  );
}

/** The tables a DynamoDB write command's input names (none for a read). */
export function tablesWritten(commandName: string, input: unknown): string[] {
  const fields = (input ?? {}) as {
    TableName?: string;
    TransactItems?: readonly Partial<Record<string, { TableName?: string }>>[];
    RequestItems?: Record<string, unknown>;
  };
  // The client's and the document client's command names, as the middleware context has them.
  switch (commandName) {
    case "PutItemCommand":
    case "PutCommand":
    case "UpdateItemCommand":
    case "UpdateCommand":
    case "DeleteItemCommand":
    case "DeleteCommand":
      return fields.TableName ? [fields.TableName] : [];
    case "TransactWriteItemsCommand":
    case "TransactWriteCommand":
      return [
        ...new Set(
          (fields.TransactItems ?? []).flatMap((item) => ["Put", "Update", "Delete"].flatMap((kind) => item[kind]?.TableName ?? [])),
        ),
      ];
    case "BatchWriteItemCommand":
    case "BatchWriteCommand":
      return Object.keys(fields.RequestItems ?? {});
    default:
      return [];
  }
}
