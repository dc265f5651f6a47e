import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** Write units DynamoDB reported, split by how they were written. */
export interface CapacityTotals {
  /** Write calls that reported capacity. */
  readonly calls: number;
  /** Write units as DynamoDB (Local) reported them. */
  readonly reported: number;
  /** Of `reported`, the units of TransactWriteItems calls. */
  readonly transactional: number;
  /** Read units reported (queries and gets the metering path makes). */
  readonly reads: number;
}

const WRITES = new Set([
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "BatchWriteItemCommand",
  "TransactWriteItemsCommand",
  "PutCommand",
  "UpdateCommand",
  "DeleteCommand",
  "BatchWriteCommand",
  "TransactWriteCommand",
]);
const READS = new Set([
  "GetItemCommand",
  "QueryCommand",
  "BatchGetItemCommand",
  "TransactGetItemsCommand",
  "GetCommand",
  "BatchGetCommand",
  "TransactGetCommand",
]);

type Consumed = { CapacityUnits?: number; WriteCapacityUnits?: number; ReadCapacityUnits?: number };

function units(c: unknown, kind: "write" | "read"): number {
  const list = (Array.isArray(c) ? c : c ? [c] : []) as Consumed[];
  return list.reduce((s, x) => s + ((kind === "write" ? x.WriteCapacityUnits : x.ReadCapacityUnits) ?? x.CapacityUnits ?? 0), 0);
}

/**
 * Asks DynamoDB for `ConsumedCapacity` on every call of `doc` and sums what it reports: the
 * benchmark's write units per request come from DynamoDB itself, not from a model of the
 * writes. DynamoDB Local reports one unit per KB per item for a transaction too, where the
 * cloud charges two: `cloudUnits` doubles the transactional share.
 */
export function meterConsumedCapacity(doc: DynamoDBDocumentClient): { totals(): CapacityTotals } {
  let calls = 0;
  let reported = 0;
  let transactional = 0;
  let reads = 0;
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "";
      const write = WRITES.has(command);
      if (!write && !READS.has(command)) return next(args);
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= "TOTAL";
      const out = await next(args);
      const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      if (write) {
        const u = units(consumed, "write");
        calls++;
        reported += u;
        if (command.startsWith("TransactWrite")) transactional += u;
      } else {
        reads += units(consumed, "read");
      }
      return out;
    },
    { step: "initialize", name: "benchConsumedCapacity" },
  );
  return { totals: () => ({ calls, reported, transactional, reads }) };
}

/** What the cloud would charge for the reported units: transactions cost two units per item-KB. */
export function cloudUnits(t: CapacityTotals): number {
  return t.reported + t.transactional;
}

export function capacityDelta(a: CapacityTotals, b: CapacityTotals): CapacityTotals {
  return {
    calls: b.calls - a.calls,
    reported: b.reported - a.reported,
    transactional: b.transactional - a.transactional,
    reads: b.reads - a.reads,
  };
}
