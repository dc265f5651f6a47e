import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, it } from "@jest/globals";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { e2ePlatform } from "../e2e/helpers";

/**
 * Debian's Chromium (`apt-get install chromium`; .ci/run installs it when missing), or the one
 * CHROMIUM_PATH names. The wrapper /usr/bin/chromium execs /usr/lib/chromium/chromium.
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/lib/chromium/chromium", "/usr/bin/chromium"].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error("Chromium not found: install Debian's `chromium` package or set CHROMIUM_PATH");
  return found;
}

/** Where a failing test's screenshot is kept (git-ignored). */
export const FAILURE_DIR = join(process.cwd(), "test-results", "browser");

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Page errors, CSP violations and dialogs (an alert is an XSS) seen so far. */
  problems: string[];
}

/**
 * One Chromium per suite and a fresh context (no storage shared with another suite), with every
 * page error, console error, CSP violation and dialog recorded in `problems`.
 */
export function useBrowser(): BrowserSession {
  const s = { problems: [] as string[] } as BrowserSession;
  beforeAll(async () => {
    s.browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--disable-dev-shm-usage", "--disable-gpu"] });
    s.context = await s.browser.newContext({ viewport: { width: 1280, height: 900 } });
    s.page = await s.context.newPage();
    watch(s.page, s.problems);
  });
  afterAll(async () => {
    await s.browser?.close();
  });
  return s;
}

export function watch(page: Page, problems: string[]): void {
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/status of 4\d\d/.test(msg.text())) problems.push(`console error: ${msg.text()}`);
  });
  page.on("dialog", (dialog) => {
    // The console asks before deleting or revoking (confirm); anything else is unexpected.
    if (dialog.type() === "confirm") void dialog.accept();
    else {
      problems.push(`${dialog.type()} dialog: ${dialog.message()}`);
      void dialog.dismiss();
    }
  });
}

/**
 * A test that keeps a screenshot of every open page when it fails
 * (test-results/browser/<test>-<n>.png).
 */
export function browserTest(name: string, s: BrowserSession, fn: () => Promise<void>, timeoutMs?: number): void {
  it(
    name,
    async () => {
      try {
        await fn();
      } catch (err) {
        mkdirSync(FAILURE_DIR, { recursive: true });
        const base = join(FAILURE_DIR, name.replace(/[^a-z0-9]+/gi, "-").slice(0, 80));
        const pages = s.browser?.contexts().flatMap((c) => c.pages()) ?? [];
        for (const [i, page] of pages.entries()) await page.screenshot({ path: `${base}-${i}.png`, fullPage: true }).catch(() => undefined);
        throw err;
      }
    },
    timeoutMs,
  );
}

/**
 * The page's globals that functions evaluated in it use. The tests compile without the DOM
 * library (Node's fetch types differ from it), and an evaluated function is sent as its source,
 * so each one names these through `globalThis` itself, for its types only.
 */
export interface InPage {
  readonly document: {
    querySelectorAll(selector: string): Iterable<PageElement>;
    readonly activeElement: PageElement | null;
    readonly cookie: string;
  };
  readonly localStorage: Record<string, string>;
  readonly sessionStorage: Record<string, string>;
}
export interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  readonly disabled?: boolean;
  readonly tagName: string;
  readonly textContent: string | null;
  getClientRects(): { readonly length: number };
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  blur(): void;
}

export const consoleUrl = () => `${e2ePlatform().url}/console/`;

/** Signs in on the sign-in page with the platform's local admin pair, as an operator types it. */
export async function signInAsOperator(page: Page): Promise<void> {
  const { admin } = e2ePlatform();
  await page.goto(consoleUrl());
  await page.getByLabel("Access key id").fill(admin.accessKeyId);
  await page.getByLabel("Secret access key").fill(admin.secretAccessKey);
  await page.getByRole("button", { name: "Sign in as operator" }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
}

export async function signInAsTenant(page: Page, apiKey: string): Promise<void> {
  await page.goto(consoleUrl());
  await page.getByLabel("API key").fill(apiKey);
  await page.getByRole("button", { name: "Sign in as tenant" }).click();
  await page.getByRole("heading", { level: 1, name: /^My usage: tenant / }).waitFor();
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's serious and critical violations on the page as it stands. The script is evaluated
 * through the DevTools protocol, which the page's CSP does not apply to: the console itself
 * allows no inline script.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    interface AxeResult {
      violations: Array<{ id: string; impact?: string | null; nodes: Array<{ target: string[] }> }>;
    }
    const { axe, document } = globalThis as unknown as InPage & { axe: { run(ctx: unknown, opts: unknown): Promise<AxeResult> } };
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.join(", ")}`);
}

/**
 * Tabs through the page from the top and returns the interactive elements (buttons, links,
 * inputs, selects) that were never focused: each is tagged first, then Tab is pressed until
 * focus comes back round.
 */
export async function unreachableByKeyboard(page: Page): Promise<string[]> {
  const total = await page.evaluate(() => {
    const { document } = globalThis as unknown as InPage;
    const els = [...document.querySelectorAll("a[href], button, input, select, textarea, summary")].filter(
      (e) => !e.disabled && e.getClientRects().length > 0,
    );
    els.forEach((e, i) => {
      e.dataset.kb = String(i);
    });
    document.activeElement?.blur();
    return els.length;
  });
  const seen = new Set<string>();
  for (let i = 0; i < total * 2 + 10 && seen.size < total; i++) {
    await page.keyboard.press("Tab");
    const kb = await page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.dataset.kb);
    if (kb !== undefined) seen.add(kb);
  }
  return page.evaluate(
    (reached) =>
      [...(globalThis as unknown as InPage).document.querySelectorAll("[data-kb]")]
        .filter((e) => !reached.includes(e.dataset.kb ?? ""))
        .map(
          (e) =>
            `${e.tagName.toLowerCase()} "${(e.textContent || e.getAttribute("aria-label") || e.getAttribute("name") || "").trim().slice(0, 40)}"`,
        ),
    [...seen],
  );
}
