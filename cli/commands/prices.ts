import { type Command, Option } from "commander";
import { InvalidAmountError, parsePriceAmount } from "../../functions/core/money/amount";
import { adminCall, type GlobalOptions, resolveTarget } from "../context";
import { argumentError } from "../errors";
import { printFields, printJson, printTable, shortTime } from "../output";
import { versionArgument } from "../version-argument";

interface PriceOut {
  model: string;
  version?: number;
  tenant?: string;
  currency: string;
  effectiveFrom: string;
  status?: string;
  components: Record<string, string>;
}

/** Flag → price component, in the order tables show them. */
const COMPONENT_FLAGS = [
  ["perRequest", "--per-request <amount>", "per billable request"],
  ["perMillionInput", "--per-1m-input <amount>", "per million input (prompt) tokens"],
  ["perMillionOutput", "--per-1m-output <amount>", "per million output (completion) tokens"],
  ["perMillionCachedInput", "--per-1m-cached-input <amount>", "per million input tokens served from the engine's cache"],
  ["perSecond", "--per-second <amount>", "per second of model time (models without tokens)"],
] as const;

type ComponentOptions = Record<string, string | undefined>;

/** Commander's name for a flag's value (`--per-1m-input` → `per1mInput`). */
const attributeOf = (flag: string) => new Option(flag).attributeName();

/** The components given as flags: decimal amounts in the platform currency, precise to 1e-9. */
export function componentsFrom(o: ComponentOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, flag] of COMPONENT_FLAGS) {
    const raw = o[attributeOf(flag)];
    if (raw === undefined) continue;
    const name = flag.split(" ")[0] ?? flag;
    try {
      parsePriceAmount(raw, name);
    } catch (err) {
      if (err instanceof InvalidAmountError) throw argumentError(err.message);
      throw err;
    }
    out[field] = raw;
  }
  if (Object.keys(out).length === 0)
    throw argumentError(`give at least one of ${COMPONENT_FLAGS.map(([, f]) => f.split(" ")[0]).join(", ")}`);
  return out;
}

const scopeOf = (p: PriceOut) =>
  `${p.version !== undefined ? `v${p.version}` : "all versions"}${p.tenant ? `, ${p.tenant} (contract)` : ""}`;
const componentsText = (p: PriceOut) =>
  COMPONENT_FLAGS.filter(([field]) => p.components[field] !== undefined)
    .map(([field, flag]) => `${p.components[field]} ${flag.split(" ")[0]?.slice(2)}`)
    .join(", ");

function printPrices(prices: readonly PriceOut[], withStatus: boolean): void {
  printTable(
    ["MODEL", "SCOPE", "FROM", ...(withStatus ? ["STATUS"] : []), "CURRENCY", "COMPONENTS"],
    prices.map((p) => [p.model, scopeOf(p), shortTime(p.effectiveFrom), ...(withStatus ? [p.status] : []), p.currency, componentsText(p)]),
  );
}

export function registerPrices(program: Command): void {
  const prices = program.command("prices").description("the price book: list and contract prices, effective-dated");
  const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
  const set = prices
    .command("set <model>")
    .description("set a price from a time on (default: as soon as every gateway has read it); past spend never changes")
    .option("--version <n>", "this version only (default: every version of the model)")
    .option("--tenant <id>", "a contract price for this tenant (wins over the list price)")
    .option("--from <iso>", "when the price takes effect, ISO-8601 with a zone");
  for (const [, flag, help] of COMPONENT_FLAGS) set.addOption(new Option(flag, help));
  set.action(async (model: string, o: ComponentOptions, cmd: Command) => {
    const body = {
      ...componentsFrom(o),
      ...(o.version !== undefined ? { version: versionArgument(o.version, "--version") } : {}),
      ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
      ...(o.from !== undefined ? { from: o.from } : {}),
    };
    const out = await adminCall<PriceOut>(resolveTarget(g(cmd)), "POST", `/admin/models/${encodeURIComponent(model)}/prices`, body);
    if (g(cmd).json) {
      printJson(out);
      return;
    }
    printFields([
      ["model", out.model],
      ["scope", scopeOf(out)],
      ["from", out.effectiveFrom],
      ["price", `${componentsText(out)} (${out.currency})`],
    ]);
  });
  prices
    .command("list")
    .description("the prices in force now, and those scheduled")
    .option("--model <m>", "one model's")
    .option("--tenant <id>", "the list prices and this tenant's contract prices")
    .action(async (o: { model?: string; tenant?: string }, cmd: Command) => {
      const query = { ...(o.model !== undefined ? { model: o.model } : {}), ...(o.tenant !== undefined ? { tenant: o.tenant } : {}) };
      const out = await adminCall<{ prices: PriceOut[] }>(resolveTarget(g(cmd)), "GET", "/admin/prices", undefined, query);
      if (g(cmd).json) printJson(out);
      else printPrices(out.prices, true);
    });
  prices
    .command("history <model>")
    .description("every price the model has had, oldest first")
    .option("--tenant <id>", "the list prices and this tenant's contract prices")
    .action(async (model: string, o: { tenant?: string }, cmd: Command) => {
      const query = o.tenant !== undefined ? { tenant: o.tenant } : {};
      const out = await adminCall<{ prices: PriceOut[] }>(
        resolveTarget(g(cmd)),
        "GET",
        `/admin/models/${encodeURIComponent(model)}/prices`,
        undefined,
        query,
      );
      if (g(cmd).json) printJson(out);
      else printPrices(out.prices, false);
    });
}
