import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { e2ePlatform } from "./helpers";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `modelgate <args>` as a user would (a child process) against the e2e platform. */
export function cli(args: string[], env: Record<string, string> = {}, opts: { dataDir?: boolean } = {}): Promise<CliRun> {
  const full = opts.dataDir === false ? args : ["--data-dir", e2ePlatform().dataDir, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["cli/bin.mjs", ...full], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs a command and, when `transcript` names a file, appends it there as a shell session. */
export async function recorded(args: string[], transcript: string | undefined): Promise<CliRun> {
  const r = await cli(args);
  if (transcript) {
    const quoted = args.map((a) => (/^[\w@./:,*=-]+$/.test(a) ? a : `'${a}'`)).join(" ");
    appendFileSync(transcript, `$ modelgate ${quoted}\n${r.stdout}${r.stderr}[exit ${r.code}]\n\n`);
  }
  return r;
}
