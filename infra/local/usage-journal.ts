import { constants, existsSync, readFileSync } from "node:fs";
import { type FileHandle, open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { PackIntent } from "../../functions/aws/usage-sink";
import type { RecordOutcome, UsageSink } from "../../functions/core/ports";
import type { UsageRecord } from "../../functions/core/usage";

/** What ships a journal's records to the usage table: the DynamoDB usage sink (functions/aws/usage-sink.ts). */
export interface JournalShipper extends UsageSink {
  commitPack(records: readonly UsageRecord[], commitId: string): Promise<Map<string, RecordOutcome>>;
  /** Commits what is queued without waiting for company. */
  shipNow(): void;
}

export interface UsageJournalOptions {
  /** Bytes after which the file is rewritten with only what is not yet in the table. @default 4 MiB */
  readonly maxBytes?: number;
  /** Milliseconds before a pack whose write failed is written again. @default 1000 */
  readonly retryMs?: number;
  /** Where a failed write to the table is told (it is retried). @default console.error */
  readonly onError?: (message: string) => void;
}

/** One line of the journal file. */
type Entry = { readonly rec: UsageRecord } | { readonly pack: PackIntent } | { readonly done: string };

/** Request ids remembered as journaled, so a repeated call is a duplicate without a write. */
const REMEMBERED_IDS = 10_000;

/**
 * The journal is opened O_DSYNC, so each append is on the disk when its one write returns:
 * write then fdatasync took two system calls and two trips through libuv's thread pool, and
 * ~40% more CPU per append on this machine's disk (bench/README). Where the flag is missing
 * (Windows), each write is followed by a datasync instead.
 */
const SYNCED_BY_WRITE = constants.O_DSYNC !== undefined;
const APPEND_DURABLY = SYNCED_BY_WRITE ? constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC : "a";

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The local host's usage sink: a record counts as recorded once it is in an append-only journal
 * file on this machine's disk (written and synced, many records at once), and is shipped from
 * there to the usage table in large packs by the DynamoDB usage sink, off the request's path.
 * DynamoDB Local spends a few milliseconds of CPU per write whatever the item holds; a request
 * no longer waits for one, and fewer, fuller packs cost it less per record.
 *
 * Exactly once across a crash: every pack is noted in the journal (its commit id and records)
 * before its first write, and `done` once stored. A start finds the packs not done and writes
 * each again with its own commit id (`commitPack`), which the table recognizes when an earlier
 * attempt landed; records never packed are shipped as new. Until then the platform does not
 * serve. A pack whose write fails is written again, the same pack, until it is stored.
 *
 * Readers see a journaled record once it is shipped: `shippedBetween` ships at once what a read
 * waits for, and `earliestPending` lets the usage reader hold its `asOf` before a tenant's
 * records still here (JournalAwareUsageReader).
 */
export class UsageJournal implements UsageSink {
  /** Journaled records not yet stored in the table, by request id. */
  private readonly pending = new Map<string, UsageRecord>();
  /**
   * Packs noted and not yet stored: all their records, those already stored (a duplicate the
   * pack dropped) included, since writing a pack again means repeating every step of it.
   */
  private readonly packs = new Map<string, readonly UsageRecord[]>();
  /** The pack each pending record was noted in. */
  private readonly packOf = new Map<string, string>();
  /** Request ids journaled, oldest first (a Set keeps insertion order). */
  private readonly seen = new Set<string>();
  private readonly retrying = new Set<string>();
  private shipper!: JournalShipper;
  private file!: FileHandle;
  private bytes = 0;
  private lines: string[] = [];
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  /** No new records (closing). */
  private closed = false;
  /** Closed: no more writes to the table either. */
  private stopped = false;
  /** Those waiting for some pending records to reach the table: each checked as records do. */
  private shipWaiters = new Set<{ readonly waitingFor: (r: UsageRecord) => boolean; readonly resolve: () => void }>();
  private readonly maxBytes: number;
  private readonly retryMs: number;
  private readonly onError: (message: string) => void;

  private constructor(
    readonly path: string,
    options: UsageJournalOptions,
  ) {
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.retryMs = options.retryMs ?? 1000;
    this.onError = options.onError ?? ((m) => console.error(m));
  }

  /**
   * Opens the journal at `path`, ships what a previous process left in it, and resolves once
   * all of that is in the table. `shipperFor` builds the sink that writes to the table, told
   * to note each pack it forms here first.
   */
  static async open(
    path: string,
    shipperFor: (onPack: (pack: PackIntent) => Promise<void>) => JournalShipper,
    options: UsageJournalOptions = {},
  ): Promise<UsageJournal> {
    const journal = new UsageJournal(path, options);
    journal.shipper = shipperFor((pack) => journal.notePack(pack));
    const left = readEntries(path, journal.onError);
    await journal.rewrite(left.records, left.packs);
    for (const [commitId, records] of left.packs) await journal.shipAgain(commitId, records);
    for (const r of left.records.values()) if (!journal.packOf.has(r.requestId)) journal.ship(r);
    await journal.drained();
    return journal;
  }

  async record(r: UsageRecord): Promise<RecordOutcome> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error("usage journal closed");
    if (this.seen.has(r.requestId)) return "duplicate";
    this.remember(r.requestId);
    this.pending.set(r.requestId, r);
    try {
      await this.append({ rec: r });
    } catch (err) {
      this.pending.delete(r.requestId);
      this.seen.delete(r.requestId);
      throw err;
    }
    this.ship(r);
    return "recorded";
  }

  /** The time of the tenant's earliest record not yet in the table, if any. */
  earliestPending(tenantId: string): string | undefined {
    let earliest: string | undefined;
    for (const r of this.pending.values()) if (r.tenantId === tenantId && (earliest === undefined || r.time < earliest)) earliest = r.time;
    return earliest;
  }

  /**
   * Resolves once no record of the tenant with a time in [fromTime, toTime] is pending, or after
   * `timeoutMs` (the table unreachable): a read of those records then finds every one journaled
   * before the call, as a read in the cloud finds every request answered.
   */
  shippedBetween(tenantId: string, fromTime: string, toTime: string, timeoutMs = 5000): Promise<void> {
    return this.whenShipped((r) => r.tenantId === tenantId && r.time >= fromTime && r.time <= toTime, timeoutMs);
  }

  /** Whether this process journaled the request's record (it is in the table, or will be). */
  journaled(requestId: string): boolean {
    return this.seen.has(requestId);
  }

  /** Records journaled and not yet in the table. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Resolves once every record journaled so far is in the table. */
  drained(): Promise<void> {
    return this.whenShipped(() => true);
  }

  /**
   * Stops taking records, waits up to `timeoutMs` for those journaled to reach the table, and
   * closes the file; what is still pending then stays in it for the next start.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    await this.whenShipped(() => true, timeoutMs);
    this.stopped = true;
    await this.flushing;
    await this.file.close();
  }

  /**
   * Resolves once no pending record is one `waitingFor` picks, or after `timeoutMs`. Someone
   * waits for them: what is queued ships now instead of waiting out the ship window.
   */
  private whenShipped(waitingFor: (r: UsageRecord) => boolean, timeoutMs?: number): Promise<void> {
    if (!this.anyPending(waitingFor)) return Promise.resolve();
    this.shipper.shipNow();
    return new Promise((resolve) => {
      const waiter = {
        waitingFor,
        resolve: () => {
          clearTimeout(timer);
          this.shipWaiters.delete(waiter);
          resolve();
        },
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(waiter.resolve, timeoutMs);
      this.shipWaiters.add(waiter);
    });
  }

  /** Whether a record still pending is one `pick` picks (no copy of the map: this runs as every record is stored). */
  private anyPending(pick: (r: UsageRecord) => boolean): boolean {
    for (const r of this.pending.values()) if (pick(r)) return true;
    return false;
  }

  private ship(r: UsageRecord): void {
    this.shipper.record(r).then(
      () => this.stored([r.requestId]),
      (err) => {
        const commitId = this.packOf.get(r.requestId);
        // Refused before it was noted in a pack (the note could not be written): shipped anew later.
        if (commitId === undefined) this.later(`record ${r.requestId}`, err, () => this.ship(r));
        else this.later(`pack ${commitId}`, err, () => this.shipAgain(commitId, this.packs.get(commitId) ?? []));
      },
    );
  }

  /** Writes a noted pack again, all of it as it was first written, until it is stored. */
  private async shipAgain(commitId: string, records: readonly UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.shipper.commitPack(records, commitId);
      this.stored(records.map((r) => r.requestId));
    } catch (err) {
      this.later(`pack ${commitId}`, err, () => this.shipAgain(commitId, records));
    }
  }

  /** Runs `again` after the retry delay, once per `what` at a time, unless the journal has closed. */
  private later(what: string, err: unknown, again: () => void | Promise<void>): void {
    if (this.retrying.has(what)) return;
    this.onError(`usage journal: ${what} not stored, retrying in ${this.retryMs} ms: ${(err as Error).message ?? String(err)}`);
    this.retrying.add(what);
    setTimeout(() => {
      this.retrying.delete(what);
      if (!this.stopped) void again();
    }, this.retryMs).unref();
  }

  private async notePack(pack: PackIntent): Promise<void> {
    // A pack written without its note could be written again, differently, by the next start.
    if (this.stopped) throw new Error("usage journal closed");
    const records = pack.requestIds.map((id) => this.pending.get(id)).filter((r): r is UsageRecord => r !== undefined);
    this.packs.set(pack.commitId, records);
    for (const id of pack.requestIds) this.packOf.set(id, pack.commitId);
    await this.append({ pack });
  }

  /** Records now in the table: a pack whose records all are is done. */
  private stored(ids: readonly string[]): void {
    for (const id of ids) {
      if (!this.pending.delete(id)) continue;
      const commitId = this.packOf.get(id);
      this.packOf.delete(id);
      const pack = commitId === undefined ? undefined : this.packs.get(commitId);
      if (commitId !== undefined && pack?.every((other) => !this.pending.has(other.requestId))) {
        this.packs.delete(commitId);
        // Not awaited: a lost `done` only means the pack is written again, and recognized, at the next start.
        if (!this.stopped) this.append({ done: commitId }).catch(() => undefined);
      }
    }
    for (const waiter of this.shipWaiters) if (!this.anyPending(waiter.waitingFor)) waiter.resolve();
  }

  /** Appends an entry; resolves once it is written (and synced), with the others of its turn. */
  private append(entry: Entry): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.lines.push(`${JSON.stringify(entry)}\n`);
    const written = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.flushing ??= this.flush();
    return written;
  }

  private async flush(): Promise<void> {
    // Entries that arrive while a write is on the disk go in the next one: one write and one
    // sync for all of them.
    await new Promise((r) => setImmediate(r));
    while (this.lines.length > 0) {
      const text = this.lines.join("");
      const waiters = this.waiters;
      this.lines = [];
      this.waiters = [];
      try {
        await this.file.write(text);
        if (!SYNCED_BY_WRITE) await this.file.datasync();
        this.bytes += Buffer.byteLength(text);
        if (this.bytes > this.maxBytes) await this.rewrite(this.pending, this.packs);
        for (const w of waiters) w.resolve();
      } catch (err) {
        this.failure = new Error(`usage journal ${this.path} cannot be written: ${(err as Error).message}`);
        this.onError(this.failure.message);
        for (const w of [...waiters, ...this.waiters.splice(0)]) w.reject(this.failure);
        this.lines = [];
      }
    }
    this.flushing = undefined;
  }

  /**
   * Replaces the file with one holding only what is not yet in the table: the pending records,
   * the packs not done and every record of theirs (written beside it, synced, then renamed over
   * it, so a crash leaves one whole file or the other).
   */
  private async rewrite(records: ReadonlyMap<string, UsageRecord>, packs: ReadonlyMap<string, readonly UsageRecord[]>): Promise<void> {
    const kept = new Map(records);
    for (const pack of packs.values()) for (const r of pack) kept.set(r.requestId, r);
    const lines: string[] = [];
    for (const r of kept.values()) lines.push(`${JSON.stringify({ rec: r } satisfies Entry)}\n`);
    for (const [commitId, pack] of packs) {
      lines.push(`${JSON.stringify({ pack: { commitId, requestIds: pack.map((r) => r.requestId) } } satisfies Entry)}\n`);
    }
    const text = lines.join("");
    const next = await open(`${this.path}.next`, "w");
    try {
      await next.write(text);
      await next.datasync();
    } finally {
      await next.close();
    }
    await rename(`${this.path}.next`, this.path);
    // The rename itself reaches the disk before anything is appended to the new file.
    const dir = await open(dirname(this.path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    await this.file?.close();
    this.file = await open(this.path, APPEND_DURABLY);
    this.bytes = Buffer.byteLength(text);
    for (const r of records.values()) {
      this.pending.set(r.requestId, r);
      this.remember(r.requestId);
    }
    for (const [commitId, pack] of packs) {
      this.packs.set(commitId, pack);
      for (const r of pack) if (this.pending.has(r.requestId)) this.packOf.set(r.requestId, commitId);
    }
  }

  private remember(requestId: string): void {
    this.seen.add(requestId);
    if (this.seen.size > REMEMBERED_IDS) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined && !this.pending.has(oldest)) this.seen.delete(oldest);
    }
  }
}

/**
 * What a journal file holds that is not yet in the table: its records, and the packs noted and
 * not done with their records (records of a done pack are dropped). A line cut short by a crash
 * is the last one written; it is skipped (its write never completed, so nothing counted on it).
 */
function readEntries(path: string, onError: (message: string) => void) {
  const records = new Map<string, UsageRecord>();
  const packIds = new Map<string, readonly string[]>();
  const packs = new Map<string, readonly UsageRecord[]>();
  if (!existsSync(path)) return { records, packs };
  const lines = readFileSync(path, "utf8").split("\n");
  lines.forEach((line, i) => {
    if (line === "") return;
    let entry: Entry;
    try {
      entry = JSON.parse(line) as Entry;
    } catch {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l !== ""))
        onError(`usage journal ${path}: line ${i + 1} unreadable, skipped`);
      return;
    }
    if ("rec" in entry) records.set(entry.rec.requestId, entry.rec);
    else if ("pack" in entry) packIds.set(entry.pack.commitId, entry.pack.requestIds);
    else if ("done" in entry) {
      for (const id of packIds.get(entry.done) ?? []) records.delete(id);
      packIds.delete(entry.done);
    }
  });
  for (const [commitId, ids] of packIds) {
    const pack = ids.map((id) => records.get(id));
    if (pack.every((r): r is UsageRecord => r !== undefined)) packs.set(commitId, pack);
    else onError(`usage journal ${path}: pack ${commitId} lacks some of its records; its records are shipped as new`);
  }
  return { records, packs };
}
