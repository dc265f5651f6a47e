import { describe, expect, it } from "@jest/globals";
import { quietPauseMs, TableWrites, tablesWritten } from "../../infra/local/table-writes";

const elapsed = async (p: Promise<void>) => {
  const start = performance.now();
  await p;
  return performance.now() - start;
};

describe("the local host's table-write signal", () => {
  it("names the tables a write command writes, through the document client's names too, and none for a read", () => {
    expect(tablesWritten("PutItemCommand", { TableName: "usage" })).toEqual(["usage"]);
    expect(tablesWritten("UpdateCommand", { TableName: "registry" })).toEqual(["registry"]);
    expect(tablesWritten("DeleteItemCommand", { TableName: "keys" })).toEqual(["keys"]);
    expect(
      tablesWritten("TransactWriteCommand", {
        TransactItems: [{ Put: { TableName: "usage" } }, { Update: { TableName: "usage" } }, { ConditionCheck: { TableName: "keys" } }],
      }),
    ).toEqual(["usage"]);
    expect(tablesWritten("BatchWriteItemCommand", { RequestItems: { usage: [], registry: [] } })).toEqual(["usage", "registry"]);
    expect(tablesWritten("BatchGetItemCommand", { RequestItems: { usage: {} } })).toEqual([]);
    expect(tablesWritten("QueryCommand", { TableName: "usage" })).toEqual([]);
    expect(tablesWritten("GetCommand", { TableName: "usage" })).toEqual([]);
  });

  it("ends a pause at a write of its table, not of another, and at its time or an abort otherwise", async () => {
    const writes = new TableWrites();
    const woken = writes.pause("usage", 5_000);
    const other = writes.pause("registry", 150);
    setTimeout(() => writes.notify("usage"), 20);
    expect(await elapsed(woken)).toBeLessThan(2_000);
    // A write of `usage` did not end the pause on `registry`: it ran its time.
    expect(await elapsed(other)).toBeGreaterThan(50);
    const stop = new AbortController();
    const aborted = writes.pause("usage", 5_000, stop.signal);
    stop.abort();
    expect(await elapsed(aborted)).toBeLessThan(2_000);
    // Already aborted: no pause at all.
    expect(await elapsed(writes.pause("usage", 5_000, stop.signal))).toBeLessThan(2_000);
  });

  it("pauses a quiet poller its base after a busy run or the first quiet one, doubling with each more, up to its cap", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => quietPauseMs(250, 2000, n))).toEqual([250, 250, 500, 1000, 2000, 2000, 2000]);
  });
});
