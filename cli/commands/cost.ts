import { type Command, Option } from "commander";
import { ConfigError } from "../../infra/shared/config";
import { DEFAULT_CONFIG_FILE, readPlatformConfig } from "../../infra/shared/load-config";
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
 * `npx cdk` and `npm start` do; talks to no platform and to no AWS API.
 */
export function registerCost(program: Command): void {
  program
    .command("cost")
    .description(
      "standing cost of the config's SageMaker instances per hour and month: pools, the one-endpoint-per-version layout, and the idle floor",
    )
    .addOption(new Option("--config <file>", "platform config").env("MODELGATE_CONFIG").default(DEFAULT_CONFIG_FILE))
    .addOption(new Option("--region <region>", "AWS region of the price table").default("us-east-1"))
    .action(async (o: { config: string; region: string }, cmd: Command) => {
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
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) return printJson(report);
      printReport(report);
    });
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
