import { randomUUID } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import { DynamoUsageReader } from "../../functions/aws/usage-reader";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import { usageTable } from "../../functions/contract/tables";
import { buildUsageRecord } from "../../functions/core/usage";
import { e2eTable, localDocumentClient } from "./dynamo";

const doc = localDocumentClient();
const table = e2eTable(usageTable);

/**
 * Issue 15: a container's token counts must neither lower a bill nor fail another tenant's
 * batch. DynamoDB refuses a number past 1e125 for the whole write, and a sink commits the
 * records of concurrent requests together; so a broken count must never reach a record.
 * Written and read only through the UsageSink and UsageReader ports.
 */
describe("token counts that cannot be billed, in a group commit with other tenants (DynamoDB Local)", () => {
  it("the broken records land without tokens; every other tenant's record of the same commits lands with its tokens", async () => {
    // One commit at a time: concurrent records are packed into the same writes.
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30, maxInFlight: 1 });
    const run = randomUUID().slice(0, 8);
    const now = Date.now();
    const build = (tenantId: string, tokens: unknown) =>
      buildUsageRecord({
        requestId: randomUUID(),
        receivedAt: now,
        finishedAt: now + 2,
        tenantId,
        keyId: "k1",
        model: "tinylm",
        version: 1,
        status: 200,
        bytesIn: 10,
        bytesOut: 20,
        // What a container could have put in its usage object, past any parsing.
        tokens: tokens as { input: number; output: number },
      });
    const broken = [1e200, -5, 0.5, Number.NaN, "7", { n: 1 }].map((bad) => build(`bad-${run}`, { input: bad, output: 3 }));
    const good = Array.from({ length: 30 }, () => build(`good-${run}`, { input: 4, output: 6 }));
    // Interleaved, all at once: the broken ones share commits with the good ones.
    const all = good.flatMap((g, i) => (broken[i] ? [g, broken[i]] : [g]));
    const outcomes = await Promise.all(all.map((r) => sink.record(r)));
    expect(outcomes.every((o) => o === "recorded")).toBe(true);

    const reader = new DynamoUsageReader(doc, table);
    const day = new Date(now).toISOString().slice(0, 10);
    const range = { fromTime: new Date(now - 1000).toISOString(), toTime: new Date(now + 1000).toISOString(), limit: 100 };
    const goodStored = await reader.records(`good-${run}`, day, range);
    expect(goodStored.items).toHaveLength(30);
    expect(goodStored.items.every((r) => r.tokens?.input === 4 && r.tokens.output === 6)).toBe(true);
    const badStored = await reader.records(`bad-${run}`, day, range);
    expect(badStored.items).toHaveLength(broken.length);
    expect(badStored.items.some((r) => r.tokens !== undefined)).toBe(false);
  });
});
