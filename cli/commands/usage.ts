import type { Writable } from "node:stream";
import type { Command } from "commander";
import { DEFAULT_MIN_AGE_SECONDS } from "../../functions/core/access";
import type { UsageRecord } from "../../functions/core/usage";
import { csvHeader, csvRow, jsonLine } from "../../functions/core/usage-csv";
import { toApiResponse } from "../api-client";
import { KEY_OPTION_HELP, resolveApiKey } from "../api-key";
import { adminCall, apiFailure, type GlobalOptions, reach, resolveTarget, type Target } from "../context";
import { argumentError, configError } from "../errors";
import { printFields, printJson, printTable } from "../output";

interface UsageOut {
  tenantId: string;
  from: string;
  to: string;
  granularity: string;
  group?: string;
  /** The currency of every `cost` (decimal strings). */
  currency?: string;
  totals: Record<string, number | string>;
  rows: Array<Record<string, string | number>>;
  /** Every record written before it is counted (aggregates lag the records a little). */
  asOf?: string;
}

interface RecordsOut {
  records: UsageRecord[];
  cursor?: string;
}

interface ReconcileOut {
  from: string;
  to: string;
  accessRecords: number;
  matched: number;
  unmetered: number;
  gaps: number;
  missing: Array<{ requestId: string; time: string; tenantId: string; keyId: string; model: string; version: number; status: number }>;
  inFlight: number;
  repaired: number;
}

interface Who {
  tenant?: string;
  key?: string;
  keyFile?: string;
}

const GROUPS = ["model", "version", "key"];
const FORMATS = ["csv", "jsonl"];

/**
 * GETs a usage route: the admin route of `--tenant` (SigV4), or else the calling tenant's own
 * route with an API key picked the way `invoke` picks it.
 */
async function usageGet<T>(target: Target, who: Who, suffix: string, query: Record<string, string | undefined>): Promise<T> {
  if (who.tenant !== undefined)
    return adminCall<T>(target, "GET", `/admin/tenants/${encodeURIComponent(who.tenant)}/usage${suffix}`, undefined, query);
  const key = resolveApiKey(who, target.defaultApiKey);
  if (!key) throw configError("no API key: pass --tenant (admin), --key, --key-file, or set MODELGATE_API_KEY");
  const url = new URL(`v1/usage${suffix}`, target.apiUrl.endsWith("/") ? target.apiUrl : `${target.apiUrl}/`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const res = await reach(target.apiUrl, async () =>
    toApiResponse<T>(await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(60_000) })),
  );
  if (res.status < 200 || res.status > 299) throw apiFailure(res);
  return res.body;
}

/** Report rows as a table: the group's columns, then the counters people read first. */
function printRows(rows: UsageOut["rows"]): void {
  const dims = ["period", "model", "version", "keyId"].filter((d) => rows.some((r) => r[d] !== undefined));
  const counters: Array<[string, string]> = [
    ["requests", "REQUESTS"],
    ["errors", "ERRORS"],
    ["refused", "REFUSED"],
    ["shadowRequests", "SHADOW"],
    ["bytesIn", "BYTES_IN"],
    ["bytesOut", "BYTES_OUT"],
    ["inputTokens", "TOKENS_IN"],
    ["outputTokens", "TOKENS_OUT"],
    ["cost", "COST"],
  ];
  printTable(
    [...dims.map((d) => (d === "keyId" ? "KEY" : d.toUpperCase())), ...counters.map(([, h]) => h), "AVG_MS"],
    rows.map((r) => {
      const requests = Number(r.requests ?? 0);
      const avg = requests > 0 ? String(Math.round(Number(r.latencyMs ?? 0) / requests)) : "-";
      return [...dims.map((d) => String(r[d] ?? "-")), ...counters.map(([c]) => String(r[c] ?? 0)), avg];
    }),
  );
}

/** Writes and waits while stdout's buffer is full, so a long export never piles up in memory. */
function write(out: Writable, chunk: string): Promise<void> {
  if (out.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => out.once("drain", () => resolve()));
}

export function registerUsage(program: Command): void {
  const usage = program.command("usage").description("read a tenant's usage: summaries and record exports");
  usage
    .command("show")
    .description("usage summed per period and group (default: this month, per day, per model version)")
    .option("--tenant <id>", "any tenant, through the admin API (default: the tenant of the API key)")
    .option("--key <apiKey>", `${KEY_OPTION_HELP.key}; when --tenant is not given`)
    .option("--key-file <path>", KEY_OPTION_HELP.keyFile)
    .option("--from <ISO>", "start of the period (a date or date-time; default: start of this month)")
    .option("--to <ISO>", "end of the period, inclusive (a bare date means that whole day; default: now)")
    .option("--model <name>", "only this model")
    .option("--by <day|hour>", "period length")
    .option("--group <model|version|key>", "rows per model, per model version (default), or per API key")
    .action(async (o: Who & { from?: string; to?: string; model?: string; by?: string; group?: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      if (o.by !== undefined && o.by !== "day" && o.by !== "hour") throw argumentError(`--by takes day or hour, got '${o.by}'`);
      if (o.group !== undefined && !GROUPS.includes(o.group)) throw argumentError(`--group takes ${GROUPS.join(", ")}, got '${o.group}'`);
      const out = await usageGet<UsageOut>(resolveTarget(opts), o, "", {
        from: o.from,
        to: o.to,
        model: o.model,
        by: o.by,
        group: o.group,
      });
      if (opts.json) return printJson(out);
      printFields([
        ["tenant", out.tenantId],
        ["period", `${out.from} .. ${out.to} (by ${out.granularity}, per ${out.group ?? "version"})`],
        ...(out.asOf ? [["as of", `${out.asOf} (every request before it is counted)`] as const] : []),
        ...Object.entries(out.totals ?? {}).map(
          ([k, v]) => [k, k === "cost" && out.currency ? `${v} ${out.currency}` : String(v)] as const,
        ),
      ]);
      if ((out.rows ?? []).length === 0) return;
      process.stdout.write("\n");
      printRows(out.rows);
    });

  usage
    .command("export")
    .description("every usage record of a range, streamed page by page to stdout as CSV or JSON lines")
    .option("--tenant <id>", "any tenant, through the admin API (default: the tenant of the API key)")
    .option("--key <apiKey>", `${KEY_OPTION_HELP.key}; when --tenant is not given`)
    .option("--key-file <path>", KEY_OPTION_HELP.keyFile)
    .requiredOption("--from <ISO>", "start of the range (a date or date-time)")
    .requiredOption("--to <ISO>", "end of the range, inclusive (a bare date means that whole day)")
    .requiredOption("--format <csv|jsonl>", "csv (RFC 4180, with a header) or jsonl (one JSON record a line)")
    .option("--include-refused", "add requests refused by limits (kind=refused; never billed)")
    .option("--include-shadow", "add shadow copies (kind=shadow; never billed)")
    .option("--page-size <n>", "records per API call (1-1000)", "500")
    .action(
      async (
        o: Who & { from: string; to: string; format: string; includeRefused?: boolean; includeShadow?: boolean; pageSize: string },
        cmd: Command,
      ) => {
        const opts = cmd.optsWithGlobals<GlobalOptions>();
        if (!FORMATS.includes(o.format)) throw argumentError(`--format takes csv or jsonl, got '${o.format}'`);
        if (!/^\d+$/.test(o.pageSize) || Number(o.pageSize) < 1 || Number(o.pageSize) > 1000)
          throw argumentError(`--page-size takes 1 to 1000, got '${o.pageSize}'`);
        const include = [o.includeRefused ? "refused" : undefined, o.includeShadow ? "shadow" : undefined].filter(Boolean).join(",");
        const target = resolveTarget(opts);
        const line = o.format === "csv" ? csvRow : jsonLine;
        let cursor: string | undefined;
        let first = true;
        do {
          const page = await usageGet<RecordsOut>(target, o, "/records", {
            from: o.from,
            to: o.to,
            limit: o.pageSize,
            include: include || undefined,
            cursor,
          });
          // The header only once the API answered, so a refused export prints nothing on stdout.
          const header = first && o.format === "csv" ? csvHeader() : "";
          first = false;
          // One write per page: each page is on stdout before the next is asked for.
          const chunk = header + page.records.map(line).join("");
          if (chunk !== "") await write(process.stdout, chunk);
          cursor = page.cursor;
        } while (cursor !== undefined);
      },
    );

  usage
    .command("reconcile")
    .description(
      "compare the gateway's access log of a range with the usage records (all tenants) and report each request that reached a model and has none; --repair records them",
    )
    .requiredOption("--from <ISO>", "start of the range (a date or date-time)")
    .requiredOption("--to <ISO>", "end of the range, inclusive (a bare date means that whole day)")
    .option("--repair", "write the missing usage records (with the gateway's status, e.g. 502: the handler died after the model call)")
    .option(
      "--min-age <seconds>",
      "skip requests younger than this: they may still be running (a streamed generation runs up to 15 minutes)",
      String(DEFAULT_MIN_AGE_SECONDS),
    )
    .action(async (o: { from: string; to: string; repair?: boolean; minAge: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      if (!/^\d+$/.test(o.minAge) || Number(o.minAge) > 86_400)
        throw argumentError(`--min-age takes 0 to 86400 seconds, got '${o.minAge}'`);
      const out = await adminCall<ReconcileOut>(resolveTarget(opts), "POST", "/admin/usage/reconcile", {
        from: o.from,
        to: o.to,
        repair: o.repair === true,
        minAgeSeconds: Number(o.minAge),
      });
      if (opts.json) return printJson(out);
      printFields([
        ["range", `${out.from} .. ${out.to}`],
        ["access records", String(out.accessRecords)],
        ["with usage", String(out.matched)],
        ["no model call", String(out.unmetered)],
        ["gaps", String(out.gaps)],
        ["in flight", String(out.inFlight)],
        ["repaired", String(out.repaired)],
      ]);
      if (out.missing.length === 0) return;
      process.stdout.write("\n");
      printTable(
        ["REQUEST", "TIME", "TENANT", "KEY", "MODEL", "VERSION", "STATUS"],
        out.missing.map((m) => [
          m.requestId,
          m.time,
          m.tenantId,
          m.keyId,
          m.model,
          m.version === 0 ? "-" : String(m.version),
          String(m.status),
        ]),
      );
      if (out.gaps > out.missing.length) process.stdout.write(`(${out.gaps - out.missing.length} more not listed)\n`);
    });
}
