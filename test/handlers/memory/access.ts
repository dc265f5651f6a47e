import type { AccessRecord } from "../../../functions/core/access";
import type { AccessLog } from "../../../functions/core/ports";
import type { MemoryUsageStore } from "./usage";

/** Access records in memory: the invoke path's journal and reconciliation's log over the same map. */
export class MemoryAccessStore implements AccessLog {
  readonly records = new Map<string, AccessRecord>();

  constructor(
    private readonly usage: MemoryUsageStore,
    /** Records per page of `accessRecords`, small so tests see paging. */
    private readonly pageSize = 2,
  ) {}

  async record(a: AccessRecord) {
    this.records.set(a.requestId, a);
  }

  async *accessRecords(fromTime: string, toTime: string): AsyncIterable<AccessRecord[]> {
    const inRange = [...this.records.values()]
      .filter((a) => a.time >= fromTime && a.time <= toTime)
      .sort((a, b) => (a.time < b.time ? -1 : 1));
    for (let i = 0; i < inRange.length; i += this.pageSize) yield inRange.slice(i, i + this.pageSize);
  }

  async usageRecorded(requestIds: readonly string[]) {
    return new Set(requestIds.filter((id) => this.usage.stored.has(id)));
  }
}
