import { type ChildProcess, fork } from "node:child_process";

/** The shipped config with the stage throttle lifted: what the closed-loop cases load (./capacity.config.ts). */
export const CAPACITY_CONFIG = "bench/capacity.config.ts";

/**
 * A bench script in a process of its own (so its CPU is counted apart from the load
 * generator's), run by tsx with `env` added; `ready` is its first IPC message (its URLs).
 */
export function forkChild<T>(script: string, env: NodeJS.ProcessEnv): { child: ChildProcess; ready: Promise<T> } {
  const child = fork(script, {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    env: { ...process.env, ...env },
  });
  const ready = new Promise<T>((resolve, reject) => {
    child.once("message", (m) => resolve(m as T));
    child.once("exit", (code) => reject(new Error(`${script} exited (${code})`)));
  });
  return { child, ready };
}
