import { describe, expect } from "@jest/globals";
import { parseAmount } from "../../functions/core/money/amount";
import { admin } from "../e2e/helpers";
import { axeViolations, browserTest, signInAsOperator, unreachableByKeyboard, useBrowser } from "./browser";

interface Range {
  min: number;
  initial: number;
  max: number;
}
interface Inventory {
  pools: Array<{
    pool: string;
    endpointName: string;
    instanceType: string;
    instance: { accelerators: number; vcpus: number };
    initialInstances: number;
    instances?: Range;
    runningInstances?: number;
    components: Array<{
      model: string;
      version: number;
      componentName: string;
      accelerators: number;
      cpus: number;
      copies?: Range;
      runningCopies?: number;
    }>;
  }>;
}
interface Showback {
  currency: string;
  pools: Array<{ pool: string; cost: string; idleCost: string; utilization: number }>;
}

const month = () => new Date().toISOString().slice(0, 7);
const range = (r: Range) => `${r.min}–${r.max} (starts at ${r.initial})`;

/** The cells of a table's body rows, as the page shows them. */
async function rows(page: import("playwright-core").Page, name: string): Promise<string[][]> {
  const table = page.getByRole("table", { name, exact: true });
  await table.waitFor();
  return table
    .locator("tbody tr")
    .evaluateAll((trs) =>
      trs.map((tr) => [...(tr as unknown as { cells: Iterable<{ textContent: string | null }> }).cells].map((c) => c.textContent ?? "")),
    );
}

/**
 * The Pools page against the admin API it reads: each pool's instances and components with their
 * copy ranges equal to GET /admin/pools, and its cost, idle cost and utilization within what
 * GET /admin/showback said just before and just after (the local host's simulated cost grows
 * while copies run).
 */
describe("the console's Pools page", () => {
  const s = useBrowser();

  browserTest("shows each pool's components, copies, instances, cost and utilization as the admin API reports them", s, async () => {
    const inventory = await admin().request<Inventory>("GET", "/admin/pools");
    expect(inventory.status).toBe(200);
    expect(inventory.body.pools.length).toBeGreaterThan(0);
    const before = await admin().request<Showback>("GET", "/admin/showback", undefined, { month: month() });
    expect(before.status).toBe(200);

    await signInAsOperator(s.page);
    await s.page.getByRole("link", { name: "Pools" }).click();
    await s.page.getByRole("heading", { level: 1, name: "Pools" }).waitFor();
    const shown = new Map<string, { summary: string[][]; components: string[][] }>();
    for (const p of inventory.body.pools) {
      shown.set(p.pool, { summary: await rows(s.page, `Pool ${p.pool}`), components: await rows(s.page, `Components on ${p.pool}`) });
    }
    const after = await admin().request<Showback>("GET", "/admin/showback", undefined, { month: month() });
    const afterInventory = await admin().request<Inventory>("GET", "/admin/pools");

    for (const p of inventory.body.pools) {
      const page = shown.get(p.pool);
      const [summary] = page?.summary ?? [];
      expect(summary?.slice(0, 4)).toEqual([
        p.endpointName,
        p.instanceType,
        `${p.instance.vcpus} vCPUs, ${p.instance.accelerators} accelerators`,
        range(p.instances ?? { min: p.initialInstances, initial: p.initialInstances, max: p.initialInstances }),
      ]);
      expect(page?.components.map((row) => row.slice(0, 5))).toEqual(
        p.components.map((c) => [
          c.model,
          String(c.version),
          c.componentName,
          `${c.cpus} vCPUs, ${c.accelerators} accelerators`,
          c.copies ? range(c.copies) : "—",
        ]),
      );
      // Copies now: what the emulator held when the API was read before or after the page (a
      // scale-to-zero component may load or unload in between).
      const later = afterInventory.body.pools.find((x) => x.pool === p.pool);
      for (const [i, c] of p.components.entries()) {
        const now = [c.runningCopies, later?.components[i]?.runningCopies].map((n) => String(n ?? "—"));
        expect({ component: c.componentName, shown: page?.components[i]?.[5] }).toMatchObject({
          shown: expect.stringMatching(new RegExp(`^(${now.join("|")})$`)),
        });
      }
      // Cost, idle cost and utilization: between the two reads of showback.
      const a = before.body.pools.find((x) => x.pool === p.pool);
      const b = after.body.pools.find((x) => x.pool === p.pool);
      if (!a || !b) throw new Error(`showback has no pool ${p.pool}`);
      const [cost, idle, utilization, instancesNow] = summary?.slice(4) ?? [];
      // A local pool has no instances of its own: the host tells none.
      expect(instancesNow).toBe(String(p.runningInstances ?? "—"));
      const amount = (text: string | undefined) => {
        const [value, currency] = (text ?? "").split(" ");
        expect(currency).toBe(before.body.currency);
        return parseAmount(value ?? "");
      };
      const between = (x: bigint, p1: bigint, p2: bigint) => x >= (p1 < p2 ? p1 : p2) && x <= (p1 < p2 ? p2 : p1);
      expect({ pool: p.pool, cost, within: between(amount(cost), parseAmount(a.cost), parseAmount(b.cost)) }).toMatchObject({
        within: true,
      });
      expect({ pool: p.pool, idle, within: between(amount(idle), parseAmount(a.idleCost), parseAmount(b.idleCost)) }).toMatchObject({
        within: true,
      });
      const pct = Number((utilization ?? "").replace(" %", ""));
      const lo = Math.min(a.utilization, b.utilization) * 100;
      const hi = Math.max(a.utilization, b.utilization) * 100;
      // The page rounds to one decimal: within 0.05 of the range.
      expect(pct).toBeGreaterThanOrEqual(Math.round(lo * 10) / 10 - 0.05);
      expect(pct).toBeLessThanOrEqual(Math.round(hi * 10) / 10 + 0.05);
    }

    // Every link (each model) and button reachable with the keyboard; no serious axe finding.
    expect(await unreachableByKeyboard(s.page)).toEqual([]);
    expect(await axeViolations(s.page)).toEqual([]);
    // A model link, followed with the keyboard, opens its page.
    const first = inventory.body.pools[0]?.components[0];
    if (first) {
      await s.page.getByRole("link", { name: first.model, exact: true }).first().focus();
      await s.page.keyboard.press("Enter");
      await s.page.getByRole("heading", { level: 1, name: `Model ${first.model}` }).waitFor();
    }
    expect(s.problems).toEqual([]);
  });
});
