import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { type CliRun, cli, recorded } from "./cli-run";
import { e2ePlatform, freshUsage, inferBody } from "./helpers";

const u = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Set MODELGATE_TRANSCRIPT=<file> to record the must-show session. */
const transcript = process.env.MODELGATE_TRANSCRIPT;

/** Runs a command of the must-show session and records it. */
const show = (args: string[]): Promise<CliRun> => recorded(args, transcript);

const DATA = JSON.stringify(inferBody());

describe("the modelgate CLI against the local platform", () => {
  it("must show: create tenant, key, invoke, rotate, revoke the old key, see it refused", async () => {
    const tenant = `acme-${u}`;
    if (transcript) writeFileSync(transcript, "");
    const created = await show(["tenants", "create", tenant, "--models", "iris", "--name", "Acme Inc"]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`tenant:\\s+${tenant}`));

    const key = await show(["keys", "create", tenant, "--name", "prod", "--json"]);
    expect(key.code).toBe(0);
    const k1 = JSON.parse(key.stdout);
    expect(k1).toMatchObject({ keyId: expect.any(String), apiKey: expect.stringMatching(/^mg_live_/), tenantId: tenant });

    const inv = await show(["invoke", "iris", "--key", k1.apiKey, "--data", DATA]);
    expect(inv.code).toBe(0);
    expect(JSON.parse(inv.stdout).outputs).toBeDefined();

    const rot = await show(["keys", "rotate", tenant, k1.keyId, "--grace", "10m", "--json"]);
    expect(rot.code).toBe(0);
    const k2 = JSON.parse(rot.stdout);
    expect(k2).toMatchObject({
      keyId: expect.any(String),
      apiKey: expect.any(String),
      previousKeyId: k1.keyId,
      previousValidUntil: expect.any(String),
    });
    expect((await show(["invoke", "iris", "--key", k1.apiKey, "--data", DATA])).code).toBe(0);

    expect((await show(["keys", "revoke", tenant, k1.keyId])).code).toBe(0);
    await sleep(2600); // e2e authorizer cache TTL is 2 s
    const refused = await show(["invoke", "iris", "--key", k1.apiKey, "--data", DATA]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/Unauthorized \(HTTP 401/);
    expect((await show(["invoke", "iris", "--key", k2.apiKey, "--data", DATA])).code).toBe(0);
    const list = await show(["keys", "list", tenant]);
    expect(list.stdout).toMatch(new RegExp(`${k1.keyId}\\s+prod\\s+revoked`));
    expect(list.stdout).not.toContain(k1.apiKey.slice(25));
  });

  it("tenants list, show, update, disable, enable, delete (tables and --json)", async () => {
    const tenant = `cli-${u}`;
    expect((await cli(["tenants", "create", tenant, "--models", "iris,iris-b", "--plan", "pro", "--json"])).code).toBe(0);
    const list = await cli(["tenants", "list"]);
    expect(list.stdout.split("\n")[0]).toMatch(/^TENANT\s+NAME\s+STATUS\s+PLAN\s+MODELS\s+CREATED$/);
    expect(list.stdout).toMatch(new RegExp(`${tenant}\\s+${tenant}\\s+active\\s+pro\\s+iris,iris-b`));
    const listJson = JSON.parse((await cli(["tenants", "list", "--json"])).stdout);
    expect(listJson.tenants.map((t: { tenantId: string }) => t.tenantId)).toContain(tenant);
    expect(JSON.parse((await cli(["--json", "tenants", "show", tenant])).stdout)).toMatchObject({ tenantId: tenant, plan: "pro" });
    const upd = JSON.parse((await cli(["tenants", "update", tenant, "--models", "*", "--name", "CLI", "--json"])).stdout);
    expect(upd).toMatchObject({ models: ["*"], name: "CLI" });
    expect(JSON.parse((await cli(["tenants", "disable", tenant, "--json"])).stdout).status).toBe("disabled");
    expect((await cli(["tenants", "show", tenant])).stdout).toMatch(/status:\s+disabled/);
    expect(JSON.parse((await cli(["tenants", "enable", tenant, "--json"])).stdout).status).toBe("active");
    const key = await cli(["keys", "create", tenant, "--scopes", "usage:read", "--expires", "30d"]);
    expect(key.code).toBe(0);
    expect(key.stdout.trim()).toMatch(/^mg_live_\w+$/);
    expect(key.stderr).toMatch(/not shown again/);
    const keys = JSON.parse((await cli(["keys", "list", tenant, "--json"])).stdout).keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ scopes: ["usage:read"], status: "active", expiresAt: expect.any(String) });
    const del = await cli(["tenants", "delete", tenant]);
    expect(del.stdout).toMatch(/deleted tenant .* \(1 key\(s\) revoked; usage kept\)/);
    const gone = await cli(["tenants", "show", tenant]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^modelgate: tenant '.*' does not exist \(HTTP 404 not_found\)\n$/);
  });

  it("invoke with --alias, --version, @file and --json; usage show", async () => {
    const tenant = `inv-${u}`;
    expect((await cli(["tenants", "create", tenant, "--models", "iris"])).code).toBe(0);
    const k = JSON.parse((await cli(["keys", "create", tenant, "--json"])).stdout);
    const file = join(mkdtempSync(join(tmpdir(), "mg-cli-")), "req.json");
    writeFileSync(file, DATA);
    const byAlias = JSON.parse(
      (await cli(["invoke", "iris", "--alias", "staging", "--key", k.apiKey, "--data", `@${file}`, "--json"])).stdout,
    );
    expect(byAlias).toMatchObject({
      status: 200,
      headers: { "x-model-version": "2", "x-model-alias": "staging" },
      body: { outputs: expect.any(Array) },
    });
    const byVersion = JSON.parse(
      (await cli(["invoke", "iris", "--version", "1", "--data", DATA, "--json"], { MODELGATE_API_KEY: k.apiKey })).stdout,
    );
    expect(byVersion.headers["x-model-version"]).toBe("1");
    const notGranted = await cli(["invoke", "iris-b", "--key", k.apiKey, "--data", DATA, "--json"]);
    expect(notGranted.code).toBe(1);
    expect(JSON.parse(notGranted.stdout).status).toBe(404);
    await freshUsage(tenant);
    const usage = await cli(["usage", "show", "--tenant", tenant, "--json"]);
    expect(JSON.parse(usage.stdout)).toMatchObject({ tenantId: tenant, totals: { requests: 2 } });
    const shown = (await cli(["usage", "show", "--tenant", tenant])).stdout;
    expect(shown).toMatch(/requests:\s+2/);
    // How fresh the counts are, as the API says (asOf).
    expect(shown).toMatch(/as of:\s+\d{4}-\d{2}-\d{2}T[\d:.]+Z \(every request before it is counted\)/);
  });

  it("--endpoint signs with the AWS credential chain (here: environment variables)", async () => {
    const p = e2ePlatform();
    const env = { AWS_ACCESS_KEY_ID: p.admin.accessKeyId, AWS_SECRET_ACCESS_KEY: p.admin.secretAccessKey, AWS_REGION: p.admin.region };
    const ok = await cli(["--endpoint", p.url, "tenants", "show", "demo", "--json"], env, { dataDir: false });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).tenantId).toBe("demo");
    const wrong = await cli(["--endpoint", p.url, "tenants", "list"], { ...env, AWS_SECRET_ACCESS_KEY: "wrong" }, { dataDir: false });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/HTTP 403/);
  });

  it("errors: one line on stderr; exit 2 for usage, 1 for API refusals, 3 for configuration", async () => {
    const cases: Array<[string[], number, RegExp, boolean?]> = [
      [["tenants", "create", "x-y-z"], 2, /required option '--models/],
      [["keys", "rotate", "t-1"], 2, /missing required argument/],
      [["tenants", "frobnicate"], 2, /unknown command/],
      [["keys", "create", "t-1", "--expires", "tomorrow"], 2, /--expires must be/],
      [["keys", "create", "t-1", "--scopes", "admin"], 2, /--scopes takes/],
      [["keys", "rotate", "t-1", "AAAAAAAAAAAAAAAA", "--grace", "soon"], 2, /--grace must be a duration/],
      [["invoke", "iris", "--data", "{nope"], 2, /--data is not valid JSON/],
      [["invoke", "iris", "--data", "@/nonexistent.json"], 2, /cannot read --data file/],
      [["invoke", "iris", "--alias", "prod", "--version", "1", "--data", "{}"], 2, /not both/],
      [["tenants", "create", "UPPER", "--models", "iris"], 1, /HTTP 400 invalid_request/],
      [["keys", "revoke", "demo", "AAAAAAAAAAAAAAAA"], 1, /HTTP 404/],
      [["tenants", "list", "--data-dir", "/nonexistent"], 3, /no \/nonexistent\/credentials.json/, false],
      [["--endpoint", "http://127.0.0.1:9", "invoke", "iris", "--key", "k", "--data", "{}"], 3, /cannot reach/, false],
    ];
    for (const [args, code, message, withDataDir] of cases) {
      const r = await cli(args, { MODELGATE_DATA_DIR: "" }, { dataDir: withDataDir ?? true });
      expect(`${args.join(" ")} → ${r.code}`).toBe(`${args.join(" ")} → ${code}`);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("help text through the bin entry", async () => {
    const r = await cli(["keys", "rotate", "--help"], {}, { dataDir: false });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: modelgate keys rotate \[options\] <tenant> <keyId>/);
  });
});
