import type { AccessEntry } from "../../../functions/core/access-log";
import type { AccessLog } from "../../../functions/core/ports";

/** The gateway's access log in memory: the test app logs every request it routes, as the gateway does. */
export class MemoryAccessLog implements AccessLog {
  readonly logged: AccessEntry[] = [];

  /** Entries per page of `entries`, small so tests see paging. */
  constructor(private readonly pageSize = 2) {}

  log(e: AccessEntry): void {
    this.logged.push(e);
  }

  async *entries(fromTime: string, toTime: string): AsyncIterable<readonly AccessEntry[]> {
    const inRange = this.logged.filter((e) => e.time >= fromTime && e.time <= toTime);
    for (let i = 0; i < inRange.length; i += this.pageSize) yield inRange.slice(i, i + this.pageSize);
  }
}
