import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ListeningSocket {
  readonly pid: number;
  readonly address: string;
  readonly port: number;
}

/** `pid` and every process below it (the JVM runs under a watchdog shell, under Node). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the name (field 2) may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of parents.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** /proc/net/tcp* addresses: 32-bit words in host (little-endian) byte order. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join(".");
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.slice(12).join(".")}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(":").replace(/(^|:)(0(:|$)){2,}/, "::");
}

/** Every TCP socket in LISTEN state held by one of `pids`, from /proc/net/tcp and tcp6. */
export function listeningSockets(pids: readonly number[]): ListeningSocket[] {
  const owner = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) owner.set(m[1], pid);
      } catch {
        // Closed while we looked.
      }
    }
  }
  const out: ListeningSocket[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (state !== "0A" || !local || !inode) continue; // 0A: LISTEN
      const pid = owner.get(inode);
      if (pid === undefined) continue;
      const [addr = "", port = "0"] = local.split(":");
      out.push({ pid, address: decodeAddress(addr), port: Number.parseInt(port, 16) });
    }
  }
  return out;
}

export const isLoopback = (address: string) => address === "::1" || /^(::ffff:)?127\./.test(address);
