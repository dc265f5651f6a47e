import { type Command, Option } from "commander";
import { adminCall, type GlobalOptions, resolveTarget } from "../context";
import { argumentError } from "../errors";
import { printFields, printJson, printTable, shortTime } from "../output";
import { versionArgument } from "../version-argument";

interface TargetOut {
  targets: Array<{ version: number; weight: number }>;
  shadow?: { version: number; percent: number };
  fallback?: number;
}

interface AliasOut extends TargetOut {
  model: string;
  alias: string;
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

interface HistoryOut {
  revision: number;
  from: TargetOut | null;
  to: TargetOut;
  at: string;
  by: string;
  rollbackOf?: number;
}

/** `<v>` or `<v1>=<w1> <v2>=<w2> …` → the admin API's alias target. */
export function parseTargets(args: readonly string[]): number | Array<{ version: number; weight: number }> {
  if (args.length === 1 && /^\d+$/.test(args[0] ?? "")) return versionArgument(args[0] ?? "", "an alias target");
  return args.map((a) => {
    const m = /^(\d+)=(\d+)$/.exec(a);
    if (!m) throw argumentError(`alias targets are <version> or <version>=<weight> pairs, got '${a}'`);
    return { version: versionArgument(m[1] ?? "", "an alias target"), weight: Number(m[2]) };
  });
}

/** `--shadow <v>:<pct>`. */
export function parseShadow(value: string): { version: number; percent: number } {
  const m = /^(\d+):(\d+)$/.exec(value);
  if (!m) throw argumentError(`--shadow takes <version>:<percent>, got '${value}'`);
  return { version: versionArgument(m[1] ?? "", "--shadow"), percent: Number(m[2]) };
}

/** `v1=90 v3=10 shadow v2:5% fallback v1`: one line for tables and history. */
export function describeTarget(t: TargetOut | null): string {
  if (!t) return "(created)";
  const parts = [t.targets.map((w) => (t.targets.length === 1 ? `v${w.version}` : `v${w.version}=${w.weight}`)).join(" ")];
  if (t.shadow) parts.push(`shadow v${t.shadow.version}:${t.shadow.percent}%`);
  if (t.fallback !== undefined) parts.push(`fallback v${t.fallback}`);
  return parts.join(", ");
}

function show(out: AliasOut, json: boolean | undefined): void {
  if (json) {
    printJson(out);
    return;
  }
  printFields([
    ["model", out.model],
    ["alias", out.alias],
    ["targets", out.targets.map((t) => `v${t.version}=${t.weight}`).join(" ")],
    ["shadow", out.shadow ? `v${out.shadow.version} (${out.shadow.percent}% of requests, answers discarded)` : undefined],
    ["fallback", out.fallback !== undefined ? `v${out.fallback}` : undefined],
    ["revision", String(out.revision)],
    ["updated", `${out.updatedAt} by ${out.updatedBy}`],
  ]);
}

const aliasPath = (model: string, alias: string) => `/admin/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}`;

export function registerAliases(program: Command): void {
  const aliases = program.command("aliases").description("move model aliases (prod → v7, canaries, shadows, rollback)");
  const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
  aliases
    .command("show <model> <alias>")
    .description("an alias's targets, shadow, fallback and revision")
    .action(async (model: string, alias: string, _o: unknown, cmd: Command) => {
      show(await adminCall<AliasOut>(resolveTarget(g(cmd)), "GET", aliasPath(model, alias)), g(cmd).json);
    });
  aliases
    .command("set <model> <alias> <targets...>")
    .description("point an alias at one version (`3`) or weighted versions (`1=90 3=10`, weights sum to 100)")
    .addOption(new Option("--shadow <version:percent>", "also send a sample of requests to this version; its answers are discarded"))
    .addOption(new Option("--fallback <version>", "version that answers when the chosen one fails (5xx) or is not ready"))
    .action(async (model: string, alias: string, targets: string[], o: { shadow?: string; fallback?: string }, cmd: Command) => {
      const target = parseTargets(targets);
      const shadow = o.shadow !== undefined ? parseShadow(o.shadow) : undefined;
      const fallback = o.fallback !== undefined ? versionArgument(o.fallback, "--fallback") : undefined;
      const t = resolveTarget(g(cmd));
      // Conditional on the revision just read: a concurrent move makes this a 409, never a lost update.
      const current = await adminCall<AliasOut>(t, "GET", aliasPath(model, alias)).catch(() => undefined);
      const body = {
        target,
        expectedRevision: current?.revision ?? 0,
        ...(shadow ? { shadow } : {}),
        ...(fallback !== undefined ? { fallback } : {}),
      };
      show(await adminCall<AliasOut>(t, "PUT", aliasPath(model, alias), body), g(cmd).json);
    });
  aliases
    .command("history <model> <alias>")
    .description("every move of an alias, newest first: who, when, from, to")
    .option("--limit <n>", "at most this many moves", "50")
    .action(async (model: string, alias: string, o: { limit: string }, cmd: Command) => {
      const out = await adminCall<{ history: HistoryOut[] }>(
        resolveTarget(g(cmd)),
        "GET",
        `${aliasPath(model, alias)}/history`,
        undefined,
        {
          limit: o.limit,
        },
      );
      if (g(cmd).json) {
        printJson(out);
        return;
      }
      printTable(
        ["REVISION", "AT", "BY", "FROM", "TO"],
        out.history.map((h) => [
          `${h.revision}${h.rollbackOf !== undefined ? " (rollback)" : ""}`,
          shortTime(h.at),
          h.by,
          describeTarget(h.from),
          describeTarget(h.to),
        ]),
      );
    });
  aliases
    .command("rollback <model> <alias>")
    .description("restore the alias's previous target in one conditional move")
    .action(async (model: string, alias: string, _o: unknown, cmd: Command) => {
      const out = await adminCall<AliasOut>(resolveTarget(g(cmd)), "POST", `${aliasPath(model, alias)}/rollback`);
      if (!g(cmd).json) process.stderr.write(`rolled back ${model}/${alias} to ${describeTarget(out)} (revision ${out.revision})\n`);
      show(out, g(cmd).json);
    });
}
