import { describe, expect } from "@jest/globals";
import { admin, call, e2ePlatform } from "../e2e/helpers";
import { axeViolations, browserTest, consoleUrl, type InPage, signInAsOperator, unreachableByKeyboard, useBrowser } from "./browser";

const XSS_NAME = "<img src=x onerror=alert(1)>";
const uniqueId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${process.pid}`.slice(0, 40);

describe("console: the operator's pages in Chromium", () => {
  const s = useBrowser();

  browserTest("serves /console with a CSP without unsafe-inline, and assets from its own origin only", s, async () => {
    const res = await fetch(consoleUrl());
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    const requested: string[] = [];
    s.page.on("request", (r) => requested.push(r.url()));
    await s.page.goto(consoleUrl());
    await s.page.getByRole("heading", { level: 1, name: "Sign in to modelgate" }).waitFor();
    expect(requested.filter((u) => !u.startsWith(e2ePlatform().url) && !u.startsWith("data:"))).toEqual([]);
    expect(await axeViolations(s.page)).toEqual([]);
    expect(s.problems).toEqual([]);
  });

  browserTest("signs in with the local admin pair; no secret in the URL or any storage", s, async () => {
    await signInAsOperator(s.page);
    const { admin: pair } = e2ePlatform();
    expect(s.page.url()).not.toContain(pair.secretAccessKey);
    expect(s.page.url()).not.toContain(pair.accessKeyId);
    const stored = await s.page.evaluate(() => {
      const { localStorage, sessionStorage, document } = globalThis as unknown as InPage;
      return JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie });
    });
    expect(stored).not.toContain(pair.secretAccessKey);
    expect(stored).toBe(JSON.stringify({ local: {}, session: {}, cookie: "" }));
    expect(await s.context.cookies()).toEqual([]);
    expect(s.problems).toEqual([]);
  });

  browserTest("creates a tenant and a key: the key is shown once, then never again", s, async () => {
    const page = s.page;
    const tenantId = uniqueId("ui");
    await page.getByRole("link", { name: "Tenants", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Tenants" }).waitFor();
    await page.getByLabel("Tenant id").fill(tenantId);
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("Console tenant");
    await page.getByRole("checkbox", { name: "iris", exact: true }).check();
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.getByRole("heading", { level: 1, name: `Tenant ${tenantId}` }).waitFor();
    expect((await admin().request<{ models: string[] }>("GET", `/admin/tenants/${tenantId}`)).body.models).toEqual(["iris"]);

    await page.getByLabel("Key name").fill("from the console");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByLabel("API key", { exact: true });
    await shown.waitFor();
    const apiKey = await shown.inputValue();
    expect(apiKey).toMatch(/^mg_live_/);
    // The key works: it reads its own tenant's usage.
    const usage = await call("/v1/usage", { key: apiKey });
    expect(usage.status).toBe(200);
    expect(usage.body.tenantId).toBe(tenantId);
    await page.getByRole("button", { name: "Done: I have stored it" }).click();
    expect(await page.content()).not.toContain(apiKey);
    // Back on the tenant's page: listed by id and prefix, never the key itself.
    await page.getByRole("link", { name: "← All tenants" }).click();
    await page.getByRole("link", { name: tenantId }).click();
    await page.getByRole("table", { name: "API keys" }).waitFor();
    expect(await page.content()).not.toContain(apiKey);
    expect(await page.getByRole("table", { name: "API keys" }).innerText()).toContain("from the console");

    // Rotation shows the new key once too; the old one is listed with its successor.
    await page.getByRole("button", { name: /^Rotate key / }).click();
    const rotated = await page.getByLabel("API key", { exact: true }).inputValue();
    expect(rotated).toMatch(/^mg_live_/);
    expect(rotated).not.toBe(apiKey);
    await page.getByRole("button", { name: "Done: I have stored it" }).click();
    expect(await page.content()).not.toContain(rotated);
    expect(await axeViolations(page)).toEqual([]);
    expect(s.problems).toEqual([]);
  });

  browserTest("updates a tenant's limits and budget, revokes a key, disables, enables and deletes the tenant", s, async () => {
    const page = s.page;
    const tenantId = uniqueId("ui-life");
    expect((await admin().request("POST", "/admin/tenants", { tenantId, models: ["iris"] })).status).toBe(201);
    expect((await admin().request("POST", `/admin/tenants/${tenantId}/keys`, { name: "to revoke" })).status).toBe(201);
    await page.goto(`${consoleUrl()}#/tenants/${tenantId}`);
    await page.getByRole("heading", { level: 1, name: `Tenant ${tenantId}` }).waitFor();
    await page.getByLabel("Requests per second").fill("5");
    await page.getByLabel("Requests per month").fill("1000");
    await page.getByLabel(/^Monthly budget/).fill("25.00");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved.").waitFor();
    const saved = (await admin().request<{ limits: Record<string, unknown> }>("GET", `/admin/tenants/${tenantId}`)).body;
    expect(saved.limits).toMatchObject({ ratePerSecond: 5, monthlyRequests: 1000, monthlyBudget: "25" });

    await page.getByRole("button", { name: /^Revoke key / }).click();
    await page.getByText(/^Key \w+ revoked\.$/).waitFor();
    const keys = (await admin().request<{ keys: Array<{ status: string }> }>("GET", `/admin/tenants/${tenantId}/keys`)).body.keys;
    expect(keys.map((k) => k.status)).toEqual(["revoked"]);

    await page.getByRole("link", { name: "Tenants", exact: true }).click();
    await page.getByRole("button", { name: `Disable tenant ${tenantId}` }).click();
    await page.getByRole("button", { name: `Enable tenant ${tenantId}` }).waitFor();
    expect((await admin().request<{ status: string }>("GET", `/admin/tenants/${tenantId}`)).body.status).toBe("disabled");
    await page.getByRole("button", { name: `Enable tenant ${tenantId}` }).click();
    await page.getByRole("button", { name: `Disable tenant ${tenantId}` }).waitFor();
    expect((await admin().request<{ status: string }>("GET", `/admin/tenants/${tenantId}`)).body.status).toBe("active");
    await page.getByRole("button", { name: `Delete tenant ${tenantId}` }).click();
    await page.getByRole("link", { name: tenantId }).waitFor({ state: "detached" });
    expect((await admin().request("GET", `/admin/tenants/${tenantId}`)).status).toBe(404);
    expect(s.problems).toEqual([]);
  });

  browserTest("a tenant named <img src=x onerror=alert(1)> renders as text", s, async () => {
    const tenantId = uniqueId("xss");
    expect((await admin().request("POST", "/admin/tenants", { tenantId, name: XSS_NAME, models: ["iris"] })).status).toBe(201);
    const page = s.page;
    // Already on the tenants page: its link shows it afresh, with the tenant just created.
    await page.getByRole("link", { name: "Tenants", exact: true }).click();
    await page.getByRole("link", { name: tenantId }).waitFor();
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: tenantId }) });
    expect(await row.getByRole("cell").nth(1).innerText()).toBe(XSS_NAME);
    await page.getByRole("link", { name: tenantId }).click();
    await page.getByRole("heading", { level: 1, name: `Tenant ${tenantId}` }).waitFor();
    expect(await page.getByRole("textbox", { name: "Name", exact: true }).inputValue()).toBe(XSS_NAME);
    expect(await page.getByRole("definition").first().innerText()).toBe(XSS_NAME);
    expect(await page.locator("img").count()).toBe(0);
    await page.waitForTimeout(200);
    expect(s.problems).toEqual([]);
  });

  browserTest("moves an alias (weights) and rolls it back", s, async () => {
    const page = s.page;
    await page.getByRole("link", { name: "Models" }).click();
    await page.getByRole("link", { name: "iris-ui" }).click();
    await page.getByRole("heading", { level: 1, name: "Model iris-ui" }).waitFor();
    const card = page.getByRole("region", { name: "Alias prod" });
    const before = (await admin().request<{ revision: number; targets: unknown }>("GET", "/admin/models/iris-ui/aliases/prod")).body;

    await card.getByLabel("Target").fill("1:80, 2:20");
    await card.getByRole("button", { name: "Move prod" }).click();
    await page.getByText(`→ 1:80, 2:20 (revision ${before.revision + 1},`).waitFor();
    const moved = (await admin().request<{ targets: unknown }>("GET", "/admin/models/iris-ui/aliases/prod")).body;
    expect(moved.targets).toEqual([
      { version: 1, weight: 80 },
      { version: 2, weight: 20 },
    ]);

    await page.getByRole("region", { name: "Alias prod" }).getByRole("button", { name: "Roll back prod" }).click();
    await page.getByText(`(revision ${before.revision + 2},`).waitFor();
    const back = (await admin().request<{ targets: unknown }>("GET", "/admin/models/iris-ui/aliases/prod")).body;
    expect(back.targets).toEqual(before.targets);
    const history = await page.getByRole("table", { name: "History of prod" }).innerText();
    expect(history).toContain(`rollback of ${before.revision + 1}`);
    expect(await axeViolations(page)).toEqual([]);
    expect(s.problems).toEqual([]);
  });

  browserTest("keyboard navigation reaches every action of every operator page", s, async () => {
    const page = s.page;
    for (const [hash, heading] of [
      ["overview", "Overview"],
      ["tenants", "Tenants"],
      ["tenants/demo", "Tenant demo"],
      ["models", "Models"],
      ["models/iris-ui", "Model iris-ui"],
      ["pools", "Pools"],
      ["prices", "Prices"],
      ["invoices", "Invoices"],
    ] as const) {
      await page.goto(`${consoleUrl()}#/${hash}`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      // Open the collapsed parts, so what they hold is counted too.
      for (const d of await page.locator("details").all()) await d.evaluate((el) => el.setAttribute("open", ""));
      expect({ page: hash, unreachable: await unreachableByKeyboard(page) }).toEqual({ page: hash, unreachable: [] });
      expect({ page: hash, axe: await axeViolations(page) }).toEqual({ page: hash, axe: [] });
    }
    // The pools' showback, read from GET /admin/showback: each pool's cost split by tenant, idle included.
    await page.goto(`${consoleUrl()}#/invoices`);
    const pool = page.getByRole("table", { name: "Pool shared by tenant" });
    await pool.waitFor();
    expect(await pool.innerText()).toContain("(idle)");
    // And an action done with the keyboard alone: sign out.
    await page.getByRole("button", { name: "Sign out" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Sign in to modelgate" }).waitFor();
    expect(s.problems).toEqual([]);
  });
});
