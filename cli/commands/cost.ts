import { type Command, Option } from "commander";
import { formatAmount, parseAmount } from "../../functions/core/money/amount";
import { ConfigError } from "../../infra/shared/config";
import { DEFAULT_CONFIG_FILE, readPlatformConfig } from "../../infra/shared/load-config";
import { adminCall, type GlobalOptions, resolveTarget } from "../context";
import { argumentError, configError } from "../errors";
import { printJson, printTable } from "../output";
import { type Cost, type CostReport, MissingPriceError, standingCost } from "../standing-cost";

const usd = (n: number) => `$${n.toFixed(2)}`;
/** Hourly list prices keep their published precision (e.g. $0.7364). */
const price = (n: number) => `$${n}`;
const costCells = (c: Cost) => [usd(c.perHour), usd(c.perMonth)];

/**
 * `modelgate cost`: what the config keeps running in the cloud, by the hour and the month, at
 * SageMaker's on-demand list prices (infra/shared/sagemaker-prices.ts). Reads the config the way
 * `npx cdk` and `npm start` do; talks to no platform and to no AWS API. With `--by tenant`, the
 * showback of a month instead: the platform's GET /admin/showback (pool costs split over
 * tenants by model time, idle as its own line).
 */
export function registerCost(program: Command): void {
  program
    .command("cost")
    .description(
      "standing cost of the config's SageMaker instances per hour and month: pools, the one-endpoint-per-version layout, and the idle floor; with --by tenant, the showback of the pools' cost for a month",
    )
    .addOption(new Option("--config <file>", "platform config").env("MODELGATE_CONFIG").default(DEFAULT_CONFIG_FILE))
    .addOption(new Option("--region <region>", "AWS region of the price table").default("us-east-1"))
    .addOption(
      new Option(
        "--by <dimension>",
        "showback: each pool's cost for a month split over tenants by model time (reads the platform)",
      ).choices(["tenant"]),
    )
    .addOption(new Option("--month <YYYY-MM>", "with --by: the UTC calendar month (default: the current one)"))
    .action(async (o: { config: string; region: string; by?: string; month?: string }, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json;
      if (o.by !== undefined) return showbackCommand(cmd.optsWithGlobals<GlobalOptions>(), o.month, json === true);
      if (o.month !== undefined) throw argumentError("--month needs --by tenant (the standing cost has no month)");
      const { config } = await readPlatformConfig(o.config).catch((err: unknown) => {
        throw err instanceof ConfigError ? configError(err.message) : err;
      });
      let report: CostReport;
      try {
        report = standingCost(config, o.region);
      } catch (err) {
        if (err instanceof MissingPriceError) throw argumentError(err.message);
        throw err;
      }
      if (json) return printJson(report);
      printReport(report);
    });
}

/** GET /admin/showback as it answers (infra/shared/openapi.yaml). */
interface ShowbackOut {
  period: string;
  currency: string;
  estimate: boolean;
  chargedCurrency?: string;
  pools: Array<{
    pool: string;
    basis: string;
    note?: string;
    cost: string;
    idleCost: string;
    utilization: number;
    overlapped: boolean;
    tenants: Array<{ tenant: string; attributedCost: string; charged: string }>;
  }>;
}

async function showbackCommand(g: GlobalOptions, month: string | undefined, json: boolean): Promise<void> {
  if (month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw argumentError(`--month must be YYYY-MM, got '${month}'`);
  const target = resolveTarget(g);
  const report = await adminCall<ShowbackOut>(target, "GET", "/admin/showback", undefined, { month });
  if (json) {
    // The issue's shape: pool, cost, idleCost, utilization and the tenants' lines.
    return printJson({
      period: report.period,
      currency: report.currency,
      estimate: report.estimate,
      ...(report.chargedCurrency ? { chargedCurrency: report.chargedCurrency } : {}),
      pools: report.pools.map((p) => ({
        pool: p.pool,
        cost: p.cost,
        idleCost: p.idleCost,
        utilization: p.utilization,
        basis: p.basis,
        ...(p.note ? { note: p.note } : {}),
        tenants: p.tenants,
      })),
    });
  }
  printShowback(report);
}

function printShowback(r: ShowbackOut): void {
  const out = (s = "") => process.stdout.write(`${s}\n`);
  const bases = new Set(r.pools.map((p) => p.basis));
  const kind = !r.estimate
    ? "from Cost Explorer"
    : bases.size === 1 && bases.has("simulation")
      ? "a simulation (the copies the local host ran, at list price)"
      : "an estimate, not the bill (see the notes)";
  out(`Showback for ${r.period} in ${r.currency}: ${kind}`);
  out();
  // Per tenant over every pool: amounts added as nano-units, never floats.
  const tenants = new Map<string, { charged: bigint; attributed: bigint }>();
  for (const p of r.pools) {
    for (const t of p.tenants) {
      const sum = tenants.get(t.tenant) ?? { charged: 0n, attributed: 0n };
      sum.charged += parseAmount(t.charged);
      sum.attributed += parseAmount(t.attributedCost);
      tenants.set(t.tenant, sum);
    }
  }
  const margin = r.chargedCurrency === undefined;
  printTable(
    ["TENANT", `CHARGED${margin ? "" : ` (${r.chargedCurrency})`}`, "ATTRIBUTED COST", ...(margin ? ["MARGIN"] : [])],
    [...tenants].map(([tenant, t]) => [
      tenant,
      formatAmount(t.charged),
      formatAmount(t.attributed),
      ...(margin ? [formatAmount(t.charged - t.attributed)] : []),
    ]),
  );
  out();
  printTable(
    ["POOL", "BASIS", "COST", "UTILIZATION", "IDLE COST"],
    r.pools.map((p) => [p.pool, p.basis, p.cost, `${(p.utilization * 100).toFixed(2)}%${p.overlapped ? " (overlapped)" : ""}`, p.idleCost]),
  );
  for (const p of r.pools) if (p.note) out(`note: ${p.pool}: ${p.note}`);
  if (!margin) out(`note: tenants are charged in ${r.chargedCurrency}, pools cost ${r.currency}: no margin is taken`);
}

function printReport(r: CostReport): void {
  const out = (s = "") => process.stdout.write(`${s}\n`);
  out(
    `Standing cost in ${r.region}, ${r.currency} on-demand list prices as of ${r.prices.asOf} (${r.prices.source}), ${r.hoursPerMonth} h a month`,
  );
  out();
  if (r.pools.length > 0) {
    printTable(
      ["POOL", "INSTANCE", "PRICE/H", "INSTANCES", "PER HOUR", "PER MONTH", "IDLE INSTANCES", "IDLE PER MONTH", "COMPONENTS"],
      r.pools.map((p) => [
        p.pool,
        p.instanceType,
        price(p.pricePerHour),
        String(p.standingInstances),
        ...costCells(p.standing),
        String(p.floorInstances),
        usd(p.floor.perMonth),
        p.components.map((c) => `${c.model} v${c.version} (${c.copiesMin}-${c.copiesMax})`).join(", "),
      ]),
    );
    out();
  }
  if (r.variants.length > 0) {
    out("Versions in the variant layout (own endpoint variant):");
    printTable(
      ["MODEL", "VERSION", "INSTANCE", "INSTANCES", "PER HOUR", "PER MONTH"],
      r.variants.map((v) => [v.model, String(v.version), v.instanceType, String(v.instances), ...costCells(v.cost)]),
    );
    out();
  }
  printTable(
    ["LAYOUT", "PER HOUR", "PER MONTH"],
    [
      ["this config (components awake at their minimum)", ...costCells(r.standing)],
      ["floor (every scale-to-zero component idle)", ...costCells(r.floor)],
      [`one endpoint variant per version (${r.onePerVersion.versions.length} versions)`, ...costCells(r.onePerVersion)],
    ],
  );
  for (const e of r.excluded) out(`excluded: ${e.model} v${e.version} (${e.reason})`);
  for (const n of r.notes) out(`note: ${n}`);
}
