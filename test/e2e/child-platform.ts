import { type ChildProcess, execFileSync, fork } from "node:child_process";

/** A local platform in a child process of a suite's own, which the suite may kill (the shared e2e platform must not be). */
export interface ChildPlatform {
  readonly child: ChildProcess;
  readonly url: string;
  /** What it wrote to stdout and stderr. */
  readonly log: () => string;
}

/** The platform in a child process (the benchmark's launcher) on `dataDir`, with `test/e2e/e2e.config.ts`. */
export function startChildPlatform(dataDir: string, env: Record<string, string> = {}): Promise<ChildPlatform> {
  const child = fork("bench/platform-child.ts", {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ...env, MODELGATE_DATA_DIR: dataDir, MODELGATE_CONFIG: "test/e2e/e2e.config.ts" },
  });
  let log = "";
  const append = (d: Buffer) => {
    log += d.toString();
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  return new Promise((resolve, reject) => {
    child.once("message", (m) => resolve({ child, url: (m as { url: string }).url, log: () => log }));
    child.once("exit", (code, signal) => reject(new Error(`platform exited (${code ?? signal}): ${log}`)));
  });
}

/** The DynamoDB Local JVM serving `dataDir` (not its watchdog shell, whose command line starts with /bin/sh). */
export function jvmPids(dataDir: string): number[] {
  try {
    return execFileSync("pgrep", ["-f", `^java .*${dataDir}`], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
