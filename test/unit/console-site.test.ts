import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { parseSiteConfig } from "../../console/src/site-config";
import { CONSOLE_CSP, consoleResponse, isConsolePath, LOCAL_SITE_CONFIG } from "../../infra/local/gateway/console-site";

describe("the console's static site on the local gateway", () => {
  let dir: string;
  beforeAll(() => {
    const root = mkdtempSync(join(tmpdir(), "mg-console-site-"));
    dir = join(root, "console");
    mkdirSync(dir);
    writeFileSync(join(dir, "index.html"), "<!doctype html>");
    writeFileSync(join(dir, "main-ABC123.js"), "export {}");
    writeFileSync(join(dir, ".hidden.js"), "secret");
    writeFileSync(join(root, "credentials.json"), "{}");
  });
  afterAll(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

  it("owns /console and what is under it, nothing else", () => {
    expect(isConsolePath("/console")).toBe(true);
    expect(isConsolePath("/console/main.js")).toBe(true);
    expect(isConsolePath("/consoles")).toBe(false);
    expect(isConsolePath("/v1/usage")).toBe(false);
  });

  it("serves index.html uncached, with a CSP that allows no inline script or style", async () => {
    const r = await consoleResponse(dir, "GET", "/console/");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(r.headers["content-security-policy"]).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("style-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toContain("unsafe");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["referrer-policy"]).toBe("no-referrer");
  });

  it("serves config.json saying: local sign-in, the API on this origin; never cached", async () => {
    const r = await consoleResponse(dir, "GET", "/console/config.json");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(r.body.toString())).toEqual(LOCAL_SITE_CONFIG);
    expect(parseSiteConfig(JSON.parse(r.body.toString()))).toEqual({ signIn: "local" });
    // The local policy lets the page call its own origin only.
    expect(CONSOLE_CSP).toContain("connect-src 'self';");
  });

  it("caches the content-hashed bundles for good", async () => {
    const r = await consoleResponse(dir, "GET", "/console/main-ABC123.js");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(r.headers["cache-control"]).toContain("immutable");
    expect(r.body.toString()).toBe("export {}");
  });

  it("redirects /console to /console/, so the bundles' relative paths resolve", async () => {
    const r = await consoleResponse(dir, "GET", "/console");
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe("/console/");
  });

  it("serves nothing outside the build folder, no dot-files, no unknown types", async () => {
    for (const path of [
      "/console/../credentials.json",
      "/console/../console/main-ABC123.js",
      "/console/..%2Fcredentials.json",
      "/console/.hidden.js",
      "/console/nope.js",
      "/console/index.txt",
    ]) {
      expect({ path, status: (await consoleResponse(dir, "GET", path)).status }).toEqual({ path, status: 404 });
    }
  });

  it("answers GET and HEAD only", async () => {
    const r = await consoleResponse(dir, "POST", "/console/");
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET, HEAD");
  });
});
