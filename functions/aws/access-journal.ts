import { BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AccessRecord } from "../core/access";
import type { AccessJournal } from "../core/ports";
import { ACCESS_SK, accessItem, accessPk } from "./access-items";

interface Pending {
  readonly item: Record<string, unknown>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface AccessJournalOptions {
  readonly retentionDays: number;
  /** Batches in flight at once. @default 4 */
  readonly maxInFlight?: number;
  /** Rounds of retrying a batch's unprocessed items before its requests fail. @default 6 */
  readonly maxAttempts?: number;
}

/** BatchWriteItem's limit. */
const MAX_BATCH = 25;

/**
 * Access records by group commit: records of concurrent requests share BatchWriteItem calls
 * (plain puts: a request id is unique, and writing the same record twice changes nothing).
 * A record resolves once DynamoDB has stored it; unprocessed items (throttling) are retried
 * with backoff, and a record still unstored after `maxAttempts` rounds fails its request.
 */
export class DynamoAccessJournal implements AccessJournal {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: AccessJournalOptions,
  ) {
    this.maxInFlight = options.maxInFlight ?? 4;
    this.maxAttempts = options.maxAttempts ?? 6;
  }

  record(a: AccessRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item: accessItem(a, this.options.retentionDays), resolve, reject });
      this.pump();
    });
  }

  async discard(a: AccessRecord): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: accessPk(a.requestId), sk: ACCESS_SK } }));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    // One put per request id: BatchWriteItem refuses a batch that names an item twice.
    const byPk = new Map<string, Record<string, unknown>>();
    for (const p of batch) byPk.set(String(p.item.pk), p.item);
    let requests = [...byPk.values()].map((Item) => ({ PutRequest: { Item } }));
    try {
      for (let attempt = 1; requests.length > 0; attempt++) {
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
        requests = (out.UnprocessedItems?.[this.table] ?? []) as typeof requests;
        if (requests.length === 0) break;
        if (attempt >= this.maxAttempts) throw new Error(`${requests.length} access records stayed unprocessed (throttled)`);
        await backoff(attempt);
      }
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((r) => setTimeout(r, ms));
}
