import type { Command } from "commander";
import { adminCall, type GlobalOptions, resolveTarget } from "../context";
import { usageError } from "../errors";
import { printFields, printJson } from "../output";

interface AliasOut {
  model: string;
  alias: string;
  targets: Array<{ version: number; weight: number }>;
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

/** `<v>` or `<v1>=<w1> <v2>=<w2> …` → the admin API's alias target. */
export function parseTargets(args: readonly string[]): number | Array<{ version: number; weight: number }> {
  if (args.length === 1 && /^\d+$/.test(args[0] ?? "")) return Number(args[0]);
  return args.map((a) => {
    const m = /^(\d+)=(\d+)$/.exec(a);
    if (!m) throw usageError(`alias targets are <version> or <version>=<weight> pairs, got '${a}'`);
    return { version: Number(m[1]), weight: Number(m[2]) };
  });
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
    ["revision", String(out.revision)],
    ["updated", `${out.updatedAt} by ${out.updatedBy}`],
  ]);
}

export function registerAliases(program: Command): void {
  const aliases = program.command("aliases").description("move model aliases (prod → v7, canaries)");
  aliases
    .command("show <model> <alias>")
    .description("an alias's targets and revision")
    .action(async (model: string, alias: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      show(
        await adminCall<AliasOut>(
          resolveTarget(opts),
          "GET",
          `/admin/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}`,
        ),
        opts.json,
      );
    });
  aliases
    .command("set <model> <alias> <targets...>")
    .description("point an alias at one version (`3`) or weighted versions (`1=90 3=10`)")
    .action(async (model: string, alias: string, targets: string[], _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const target = parseTargets(targets);
      const path = `/admin/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}`;
      // Conditional on the revision just read: a concurrent move makes this a 409, never a lost update.
      const current = await adminCall<AliasOut>(resolveTarget(opts), "GET", path).catch(() => undefined);
      show(await adminCall<AliasOut>(resolveTarget(opts), "PUT", path, { target, expectedRevision: current?.revision ?? 0 }), opts.json);
    });
}
