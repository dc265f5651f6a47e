import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type AccessEntry, accessEntryOf } from "../../../functions/core/access-log";
import type { AccessLog } from "../../../functions/core/ports";

/**
 * The local gateway's access log: `<dataDir>/logs/access.jsonl`, one JSON line per request with
 * the cloud stage's field names (infra/aws/constructs/gateway-api.ts), rotated by size into
 * `access.1.jsonl` … (oldest the highest number).
 *
 * In the cloud API Gateway outlives a Lambda instance that dies, and logs its 502. Here the
 * gateway shares the handlers' process, so a killed process takes the gateway with it: the
 * gateway therefore notes each request handed to a handler in `in-flight.jsonl` first, and
 * the next start logs every request noted there that never ended as the 502 API Gateway would
 * have logged. A write error never fails a request; it is reported once on stderr.
 *
 * Lines are appended with one synchronous `write` each: a small append lands in the kernel's
 * page cache in microseconds, so the line survives a killed process the moment the call
 * returns (a begin note before its handler runs), and no line costs a trip through libuv's
 * thread pool and back, as an fs.WriteStream's writes do (three per request; bench/README.md).
 */
export const ACCESS_LOG_FILE = "access.jsonl";
const IN_FLIGHT_FILE = "in-flight.jsonl";

/** A log line: the access log's fields (functions/core/access-log.ts) and the stage format's others. */
export type AccessLogLine = Readonly<Record<string, string | number>>;

export interface AccessLogFileOptions {
  /** Bytes after which access.jsonl is rotated. @default 64 MiB */
  readonly maxBytes?: number;
  /** Rotated files kept besides the current one. @default 4 */
  readonly keep?: number;
  /** Where write failures are told. @default console.error */
  readonly onError?: (message: string) => void;
}

/** The gateway's side: `begin` when a request is handed to its handler, `end` with its log line. */
export interface AccessLogWriter {
  begin(line: AccessLogLine): void;
  end(line: AccessLogLine): void;
}

export class AccessLogFile implements AccessLogWriter {
  private access: number;
  private inFlight: number;
  private accessBytes: number;
  private inFlightBytes = 0;
  /** Begin lines of the requests now with a handler: what a compacted in-flight file holds. */
  private readonly running = new Map<string, AccessLogLine>();
  private failed = false;
  private closed = false;
  private readonly maxBytes: number;
  private readonly keep: number;

  /** Opens the log in `dir`, first logging the requests a previous process left unfinished. */
  constructor(
    readonly dir: string,
    private readonly options: AccessLogFileOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.keep = options.keep ?? 4;
    mkdirSync(dir, { recursive: true });
    const accessPath = join(dir, ACCESS_LOG_FILE);
    recoverUnfinished(join(dir, IN_FLIGHT_FILE), accessPath);
    this.accessBytes = existsSync(accessPath) ? statSync(accessPath).size : 0;
    this.access = this.open(ACCESS_LOG_FILE);
    writeFileSync(join(dir, IN_FLIGHT_FILE), "");
    this.inFlight = this.open(IN_FLIGHT_FILE);
  }

  begin(line: AccessLogLine): void {
    if (this.closed) return;
    const requestId = String(line.requestId);
    this.running.set(requestId, line);
    this.inFlightBytes += this.write(this.inFlight, { begin: line });
  }

  end(line: AccessLogLine): void {
    // A handler still running at shutdown: its line would go to a closed file.
    if (this.closed) return;
    const requestId = String(line.requestId);
    this.accessBytes += this.write(this.access, line);
    if (this.running.delete(requestId)) this.inFlightBytes += this.write(this.inFlight, { end: requestId });
    if (this.accessBytes > this.maxBytes) this.rotate();
    // The in-flight file only needs what is running now: rewritten from memory when it grows.
    if (this.inFlightBytes > 1024 * 1024) this.compactInFlight();
  }

  /** Closes both files (every line is already written). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeQuietly(this.access);
    closeQuietly(this.inFlight);
  }

  /** An unopenable file fails here, at start, loudly. */
  private open(name: string): number {
    return openSync(join(this.dir, name), "a");
  }

  private write(fd: number, value: unknown): number {
    const text = `${JSON.stringify(value)}\n`;
    try {
      writeSync(fd, text);
    } catch (err) {
      this.fail((err as Error).message);
    }
    return Buffer.byteLength(text);
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    (this.options.onError ?? console.error)(`gateway: access log write failed (requests are still served): ${message}`);
  }

  private rotate(): void {
    const old = this.access;
    try {
      // Every line is written by now: the renamed file is whole, and new lines go to a new one.
      for (let n = this.keep; n >= 1; n--) {
        const from = join(this.dir, n === 1 ? ACCESS_LOG_FILE : rotatedName(n - 1));
        if (existsSync(from)) renameSync(from, join(this.dir, rotatedName(n)));
      }
      this.access = this.open(ACCESS_LOG_FILE);
    } catch (err) {
      this.fail(`rotation: ${(err as Error).message}`);
      return;
    }
    this.accessBytes = 0;
    closeQuietly(old);
  }

  private compactInFlight(): void {
    const old = this.inFlight;
    const path = join(this.dir, IN_FLIGHT_FILE);
    try {
      const lines = [...this.running.values()].map((line) => `${JSON.stringify({ begin: line })}\n`).join("");
      writeFileSync(`${path}.tmp`, lines);
      renameSync(`${path}.tmp`, path);
      this.inFlightBytes = Buffer.byteLength(lines);
      this.inFlight = this.open(IN_FLIGHT_FILE);
    } catch (err) {
      this.fail(`in-flight compaction: ${(err as Error).message}`);
      return;
    }
    closeQuietly(old);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed, or a close error on a log: nothing a request could do about it.
  }
}

const rotatedName = (n: number) => `access.${n}.jsonl`;
const ROTATED = /^access\.(\d+)\.jsonl$/;

/**
 * Logs the requests an earlier process handed to a handler and never finished as API Gateway
 * does when an integration dies: status 502, INTEGRATION_FAILURE. Runs once, at start.
 */
function recoverUnfinished(inFlightPath: string, accessPath: string): void {
  if (!existsSync(inFlightPath)) return;
  const open = new Map<string, Record<string, unknown>>();
  for (const text of readFileSync(inFlightPath, "utf8").split("\n")) {
    let parsed: { begin?: Record<string, unknown>; end?: string };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      continue; // the torn last line of a killed process
    }
    if (parsed.begin) open.set(String(parsed.begin.requestId), parsed.begin);
    else if (typeof parsed.end === "string") open.delete(parsed.end);
  }
  if (open.size === 0) return;
  const lines = [...open.values()].map((begin) => ({
    ...begin,
    status: 502,
    responseLength: 0,
    errorType: "INTEGRATION_FAILURE",
    errorMessage: "the platform process stopped before the integration answered",
  }));
  writeFileSync(accessPath, lines.map((l) => `${JSON.stringify(l)}\n`).join(""), { flag: "a" });
}

/** Reads the local access log files (rotated ones first), a page at a time: the AccessLog port of the local host. */
export class JsonLinesAccessLog implements AccessLog {
  constructor(
    private readonly dir: string,
    private readonly pageSize = 1000,
  ) {}

  async *entries(fromTime: string, toTime: string): AsyncIterable<readonly AccessEntry[]> {
    const from = Date.parse(fromTime);
    const to = Date.parse(toTime);
    // Oldest first: the rotated files by falling number, then the current one.
    const rotated = (existsSync(this.dir) ? readdirSync(this.dir) : [])
      .map((name) => ({ name, n: Number(ROTATED.exec(name)?.[1]) }))
      .filter((f) => Number.isInteger(f.n))
      .sort((a, b) => b.n - a.n)
      .map((f) => f.name);
    // A line is written when its request ends, after it was received: a file last written before
    // `from` holds no request of the range.
    const files = [...rotated, ACCESS_LOG_FILE]
      .map((name) => join(this.dir, name))
      .filter((path) => existsSync(path) && !(statSync(path).mtimeMs < from));
    let page: AccessEntry[] = [];
    for (const path of files) {
      const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
      for await (const text of lines) {
        const entry = parseLine(text);
        if (!entry) continue;
        const at = Date.parse(entry.time);
        if (at < from || at > to) continue;
        page.push(entry);
        if (page.length >= this.pageSize) {
          yield page;
          page = [];
        }
      }
    }
    if (page.length > 0) yield page;
  }
}

function parseLine(text: string): AccessEntry | undefined {
  if (text === "") return undefined;
  try {
    const fields = JSON.parse(text) as unknown;
    return typeof fields === "object" && fields !== null ? accessEntryOf(fields as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
