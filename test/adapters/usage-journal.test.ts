import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { byRecordPosition } from "../../functions/aws/usage-items";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import { usageTable } from "../../functions/contract/tables";
import type { UsageRecord } from "../../functions/core/usage";
import { UsageJournal, type UsageJournalOptions } from "../../infra/local/usage-journal";
import { e2eTable, localDocumentClient } from "./dynamo";
import { usageRecordHelpers } from "./usage-records";

const doc = localDocumentClient();
const table = e2eTable(usageTable);
const { record, storedIds } = usageRecordHelpers(doc, table);
const dir = mkdtempSync(join(tmpdir(), "modelgate-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const freshPath = () => join(dir, `${randomUUID()}.jsonl`);
const tenantOf = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const dayOf = (records: readonly UsageRecord[]) => records[0]?.time.slice(0, 10) ?? "";
const idsOf = (records: readonly UsageRecord[]) => records.map((r) => r.requestId).sort();
const line = (entry: unknown) => `${JSON.stringify(entry)}\n`;

/** A journal as the local host opens it, on `client` (a faulty one to inject failures). */
function openJournal(path: string, client = doc, options: UsageJournalOptions = {}, shipWindowMs = 20): Promise<UsageJournal> {
  return UsageJournal.open(
    path,
    (onPack) => new DynamoUsageSink(client, table, { retentionDays: 30, maxInFlight: 1, commitWindowMs: shipWindowMs, onPack }),
    { retryMs: 50, onError: () => undefined, ...options },
  );
}

/** What the table does with the n-th write: store it, store it and lose the answer, or refuse it. */
type PutFate = "store" | "lose the answer" | "refuse";

/** A client that counts writes and lets `fate` decide each (faults the local services cannot produce). */
function faultyClient(fate: (n: number) => PutFate) {
  const client = {
    puts: 0,
    send: async (command: Parameters<typeof doc.send>[0]) => {
      const what = fate(++client.puts);
      if (what === "refuse") throw Object.assign(new Error("connect ECONNREFUSED"), { name: "NetworkingError" });
      const out = await doc.send(command);
      if (what === "lose the answer") throw Object.assign(new Error("socket hang up"), { name: "NetworkingError" });
      return out;
    },
  };
  return client as typeof client & typeof doc;
}

/** Three records, earliest first, the earliest already stored by another writer (a repair): a pack of them drops it. */
async function packWithItsFirstStored(what: string) {
  const tenant = tenantOf(what);
  const records = Array.from({ length: 3 }, () => record(tenant)).sort(byRecordPosition);
  await new DynamoUsageSink(doc, table, { retentionDays: 30, maxRecordsPerPack: 1 }).record(records[0] as UsageRecord);
  return { tenant, records };
}

describe("UsageJournal (DynamoDB Local)", () => {
  it("answers once a record is journaled, ships it in packs, stores each once; a repeated id is a duplicate", async () => {
    const path = freshPath();
    const journal = await openJournal(path);
    const tenant = tenantOf("jr");
    const records = Array.from({ length: 40 }, () => record(tenant));
    const outcomes = await Promise.all(records.map((r) => journal.record(r)));
    expect(new Set(outcomes)).toEqual(new Set(["recorded"]));
    expect(await journal.record(records[0] as UsageRecord)).toBe("duplicate");
    expect(journal.journaled(records[0]?.requestId ?? "")).toBe(true);
    // Journaled means on disk: every record is in the file before any has to reach the table.
    const journaledIds = readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l.startsWith('{"rec"'))
      .map((l) => (JSON.parse(l) as { rec: UsageRecord }).rec.requestId);
    expect(journaledIds.sort()).toEqual(idsOf(records));
    await journal.drained();
    expect(journal.pendingCount).toBe(0);
    expect(journal.earliestPending(tenant)).toBeUndefined();
    expect(await storedIds(tenant, dayOf(records))).toEqual(idsOf(records));
    await journal.close();
    // Nothing left for the next start: it writes nothing again.
    const again = await openJournal(path);
    expect(again.pendingCount).toBe(0);
    await again.close();
    expect(await storedIds(tenant, dayOf(records))).toEqual(idsOf(records));
  });

  it("a read does not wait out the ship window: the records it waits for go at once", async () => {
    const journal = await openJournal(freshPath(), doc, {}, 30_000);
    const tenant = tenantOf("jn");
    const first = record(tenant);
    await journal.record(first); // alone: shipped at once
    const close = [record(tenant), record(tenant)];
    await Promise.all(close.map((r) => journal.record(r))); // would wait 30 s for company
    expect(journal.pendingCount).toBeGreaterThan(0);
    const asked = performance.now();
    await journal.shippedBetween(tenant, first.time, new Date(Date.now() + 60_000).toISOString());
    expect(performance.now() - asked).toBeLessThan(4000);
    expect(journal.pendingCount).toBe(0);
    expect(await storedIds(tenant, dayOf(close))).toEqual(idsOf([first, ...close]));
    await journal.close();
  });

  it("a start ships what a killed process left, once each, whatever step the kill interrupted", async () => {
    const tenant = tenantOf("jk");
    const group = (n: number) => Array.from({ length: n }, () => record(tenant));
    const plain = new DynamoUsageSink(doc, table, { retentionDays: 30 });
    const onlyJournaled = group(3); // killed before its pack was noted
    const noted = group(3); // pack noted, killed before its write
    const landed = group(3); // pack noted and stored, killed before `done`
    const done = group(2); // pack noted, stored and done
    const split = group(3); // its first record stored by another writer; the rest landed as the remainder
    const [notedId, landedId, doneId, splitId] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await plain.commitPack(landed, landedId);
    await plain.commitPack(done, doneId);
    const sorted = [...split].sort(byRecordPosition);
    await new DynamoUsageSink(doc, table, { retentionDays: 30, maxRecordsPerPack: 1 }).record(sorted[0] as UsageRecord);
    expect(await plain.commitPack(sorted, splitId)).toEqual(
      new Map([
        [sorted[0]?.requestId, "duplicate"],
        [sorted[1]?.requestId, "recorded"],
        [sorted[2]?.requestId, "recorded"],
      ]),
    );
    const pack = (commitId: string, records: UsageRecord[]) => line({ pack: { commitId, requestIds: idsOf(records) } });
    const path = freshPath();
    writeFileSync(
      path,
      [
        ...[...onlyJournaled, ...noted, ...landed, ...done, ...split].map((rec) => line({ rec })),
        pack(notedId, noted),
        pack(landedId, landed),
        pack(doneId, done),
        pack(splitId, sorted),
        line({ done: doneId }),
        // The kill cut the last write short.
        '{"rec":{"requestId":"cut-',
      ].join(""),
    );
    const journal = await openJournal(path);
    // open() resolves once what was left is in the table.
    expect(journal.pendingCount).toBe(0);
    expect(await storedIds(tenant, dayOf(onlyJournaled))).toEqual(idsOf([...onlyJournaled, ...noted, ...landed, ...done, ...split]));
    await journal.close();
  });

  it("a pack whose write failed is written again, the same pack, until it is stored: once", async () => {
    // The first write lands but its answer is lost; the next two fail outright.
    const faulty = faultyClient((n) => (n === 1 ? "lose the answer" : n <= 3 ? "refuse" : "store"));
    const errors: string[] = [];
    const journal = await openJournal(freshPath(), faulty, { onError: (m) => errors.push(m) });
    const tenant = tenantOf("jf");
    const records = Array.from({ length: 5 }, () => record(tenant));
    expect(new Set(await Promise.all(records.map((r) => journal.record(r))))).toEqual(new Set(["recorded"]));
    expect(journal.earliestPending(tenant)).toBe(records.map((r) => r.time).sort()[0]);
    await journal.drained();
    expect(faulty.puts).toBeGreaterThanOrEqual(4);
    expect(errors.join("\n")).toMatch(/not stored, retrying/);
    expect(await storedIds(tenant, dayOf(records))).toEqual(idsOf(records));
    await journal.close();
  });

  it("a pack retried after a failure repeats every step, the duplicates it dropped included: once each", async () => {
    const { tenant, records } = await packWithItsFirstStored("jd");
    // The remainder's write (put 3) lands, but its answer is lost: the pack fails and is written again.
    const client = faultyClient((n) => (n === 3 ? "lose the answer" : "store"));
    const journal = await openJournal(freshPath(), client);
    // A record just before them ships alone (put 1); the three then arrive close behind it and
    // wait for each other: one pack (put 2 drops the earliest, put 3 writes the rest).
    const before = record(tenant);
    await journal.record(before);
    await Promise.all(records.map((r) => journal.record(r)));
    await journal.drained();
    expect(client.puts).toBeGreaterThan(3);
    expect(await storedIds(tenant, dayOf(records))).toEqual(idsOf([before, ...records]));
    await journal.close();
  });

  it("a rewritten file keeps every record of a pack not done, so the next start repeats it whole", async () => {
    const { tenant, records } = await packWithItsFirstStored("jr2");
    // Put 3 (the pack's remainder) lands and its answer is lost; then the table is gone for good.
    const client = faultyClient((n) => (n < 3 ? "store" : n === 3 ? "lose the answer" : "refuse"));
    const path = freshPath();
    const journal = await openJournal(path, client, { maxBytes: 2048 });
    const before = record(tenant);
    await journal.record(before);
    await Promise.all(records.map((r) => journal.record(r)));
    while (client.puts < 4) await new Promise((r) => setTimeout(r, 10));
    // Enough records to pass maxBytes: the file is rewritten while the pack is not done.
    const more = Array.from({ length: 10 }, () => record(tenant));
    for (const r of more) await journal.record(r);
    expect(statSync(path).size).toBeLessThan(2048 * 3);
    await journal.close(100);
    const next = await openJournal(path);
    expect(await storedIds(tenant, dayOf(records))).toEqual(idsOf([before, ...records, ...more]));
    await next.close();
  });

  it("keeps its file small: rewritten with only what is pending once it grows", async () => {
    const path = freshPath();
    const journal = await openJournal(path, doc, { maxBytes: 4096 });
    const tenant = tenantOf("jw");
    const records = Array.from({ length: 60 }, () => record(tenant));
    for (const r of records) await journal.record(r);
    await journal.drained();
    await journal.close();
    expect(statSync(path).size).toBeLessThan(4096 + 2048);
    const again = await openJournal(path);
    expect(again.pendingCount).toBe(0);
    await again.close();
    expect(await storedIds(tenant, dayOf(records))).toEqual(idsOf(records));
  });

  it("refuses records once closed; what did not reach the table stays for the next start", async () => {
    const path = freshPath();
    const down = faultyClient(() => "refuse");
    const journal = await openJournal(path, down);
    const tenant = tenantOf("jc");
    const r = record(tenant);
    expect(await journal.record(r)).toBe("recorded");
    await journal.close(200);
    await expect(journal.record(record(tenant))).rejects.toThrow(/closed/);
    expect(await storedIds(tenant, dayOf([r]))).toEqual([]);
    const next = await openJournal(path);
    expect(await storedIds(tenant, dayOf([r]))).toEqual([r.requestId]);
    await next.close();
  });
});
