import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU seconds used so far by a process and by each of its descendants, by command name
 * (`node`, `java`, ...), from /proc. On a shared machine CPU time per request says where the
 * work goes even when wall-clock throughput is mostly other people's load. Empty off Linux.
 */
export function treeCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  const visit = (p: number) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${p}/stat`, "utf8");
    } catch {
      return;
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    out[comm] = (out[comm] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    for (const child of children(p)) visit(child);
  };
  visit(pid);
  return out;
}

function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** `after - before`, per command name. */
export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

/**
 * CPU seconds the hypervisor has stolen from this machine so far, all cores together (the
 * `steal` column of /proc/stat's first line, in clock ticks): time the load average does not
 * show, in which every path of a round runs slower. NaN off Linux.
 */
export function stolenSeconds(): number {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/) ?? [];
    return Number(cpu[8]) / 100;
  } catch {
    return Number.NaN;
  }
}
