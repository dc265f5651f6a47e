import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { isLoopback, listeningSockets, processTree } from "./listening-sockets";

/** Runs `npm start`'s entry as a user would, and returns its output once it is ready. */
function start(dataDir: string): Promise<{ child: ChildProcess; output: string; url: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "infra/local/main.ts", "--port", "0", "--data-dir", dataDir, "--config", "test/e2e/e2e.config.ts"],
    {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: "ERROR" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /modelgate ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m?.[1]) resolve({ child, output, url: m[1] });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

function javaProcessesFor(dataDir: string): string[] {
  const out = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes("DynamoDBLocal.jar") && l.includes(dataDir));
}

describe("npm start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "modelgate-start-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("prints a key and a curl that works, stops cleanly on SIGTERM, and keeps its data across restarts", async () => {
    const first = await start(dataDir);
    const key = /(mg_live_[0-9A-Za-z_]+)/.exec(first.output)?.[1];
    expect(key).toBeDefined();
    expect(first.output).toContain(`curl -s ${first.url}/v2/models/iris/infer`);
    const creds = JSON.parse(readFileSync(join(dataDir, "credentials.json"), "utf8"));
    expect(creds).toMatchObject({ apiUrl: first.url, tenantId: "demo", apiKey: key });
    expect(creds.admin.accessKeyId).toBeTruthy();
    expect(statSync(join(dataDir, "credentials.json")).mode & 0o777).toBe(0o600);

    const body = JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] });
    const res = await fetch(`${first.url}/v2/models/iris/infer`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-model-version")).toBe("1");

    expect(javaProcessesFor(dataDir).length).toBeGreaterThan(0);
    // Every listener of the platform's process tree (Node, and DynamoDB Local's JVM under its
    // watchdog) is on loopback: gateway, Lambda and SageMaker emulators, model host, s3rver, DynamoDB.
    const tree = processTree(first.child.pid as number);
    const sockets = listeningSockets(tree);
    expect(sockets.filter((s) => !isLoopback(s.address))).toEqual([]);
    expect(sockets.length).toBeGreaterThanOrEqual(6);
    expect(sockets.some((s) => s.pid !== first.child.pid)).toBe(true); // the JVM's own listener
    expect(await stop(first.child)).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(javaProcessesFor(dataDir)).toEqual([]);

    // Second start: same data, no new key printed, the old key still works and its usage is there.
    const second = await start(dataDir);
    try {
      expect(second.output).not.toContain("created. Its API key");
      // The key is printed once, by the start that created it; later starts say where it is.
      expect(second.output).not.toContain(key);
      expect(second.output).toContain(`${dataDir}/credentials.json`);
      // Once fresh (the first start's pack may still be on the stream), the request counts once.
      const since = new Date().toISOString();
      let usage: { asOf?: string; totals: { requests: number } };
      do {
        const res = await fetch(`${second.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
        usage = (await res.json()) as typeof usage;
        if ((usage.asOf ?? "") < since) await new Promise((r) => setTimeout(r, 100));
      } while ((usage.asOf ?? "") < since);
      expect(usage.totals.requests).toBe(1);
    } finally {
      await stop(second.child);
    }
  }, 600_000);

  it("refuses a port in use with a one-line error", async () => {
    const blocker = (await import("node:net")).createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "infra/local/main.ts", "--port", String(port), "--data-dir", join(dataDir, "x")],
          { stdio: ["ignore", "ignore", "pipe"] },
        );
        let stderr = "";
        child.stderr?.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        child.once("exit", (code) => resolve({ code, stderr }));
      });
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(`port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });
});
