import type { Command } from "commander";
import { adminCall, type GlobalOptions, resolveTarget } from "../context";
import { usageError } from "../errors";
import { printFields, printJson, printTable } from "../output";

interface UsageOut {
  tenantId: string;
  from: string;
  to: string;
  granularity: string;
  totals: Record<string, number>;
  rows: Array<Record<string, string | number>>;
}

export function registerUsage(program: Command): void {
  const usage = program.command("usage").description("read usage");
  usage
    .command("show")
    .description("usage of a tenant over a period (admin)")
    .requiredOption("--tenant <id>", "tenant id")
    .option("--from <ISO>", "start of the period")
    .option("--to <ISO>", "end of the period")
    .option("--model <name>", "only this model")
    .option("--by <day|hour>", "granularity")
    .action(async (o: { tenant: string; from?: string; to?: string; model?: string; by?: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      if (o.by !== undefined && o.by !== "day" && o.by !== "hour") throw usageError(`--by takes day or hour, got '${o.by}'`);
      const out = await adminCall<UsageOut>(resolveTarget(opts), "GET", `/admin/tenants/${encodeURIComponent(o.tenant)}/usage`, undefined, {
        from: o.from,
        to: o.to,
        model: o.model,
        by: o.by,
      });
      if (opts.json) return printJson(out);
      printFields([
        ["tenant", out.tenantId],
        ["period", `${out.from} .. ${out.to} (by ${out.granularity})`],
        ...Object.entries(out.totals ?? {}).map(([k, v]) => [k, String(v)] as const),
      ]);
      const rows = out.rows ?? [];
      if (rows.length === 0) return;
      const headers = Object.keys(rows[0] ?? {});
      process.stdout.write("\n");
      printTable(
        headers.map((h) => h.toUpperCase()),
        rows.map((r) => headers.map((h) => String(r[h] ?? ""))),
      );
    });
}
