import type { Command } from "commander";
import { readErrorBody } from "../../functions/core/errors";
import { adminCall, apiFailure, type GlobalOptions, reach, resolveTarget, type Target } from "../context";
import { argumentError, CliError, EXIT } from "../errors";
import { printFields, printJson, printTable } from "../output";

interface InvoiceOut {
  invoiceId?: string;
  tenant: string;
  month: string;
  status: "draft" | "issued";
  currency: string;
  issuedAt?: string;
  lines: Array<{
    model: string;
    version: number | null;
    component: string;
    unit: string;
    quantity: string;
    unitPrice: string | null;
    amount: string;
  }>;
  subtotal: string;
  adjustments: Array<{ month: string; description: string; amount: string }>;
  total: string;
  notes: string[];
  sha256?: string;
}

interface SummaryOut {
  invoiceId: string;
  tenant: string;
  month: string;
  currency?: string;
  subtotal?: string;
  adjustments?: string;
  total?: string;
  issuedAt?: string;
}

const FORMATS = ["json", "csv", "html"];
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function monthArgument(v: string | undefined, flag: string): string | undefined {
  if (v !== undefined && !MONTH.test(v)) throw argumentError(`${flag} takes a month written YYYY-MM (2026-11), got '${v}'`);
  return v;
}

function formatArgument(v: string | undefined): string | undefined {
  if (v !== undefined && !FORMATS.includes(v)) throw argumentError(`--format takes ${FORMATS.join(", ")}, got '${v}'`);
  return v;
}

/** The document for people: its fields, its lines, then the sums. */
function printInvoice(inv: InvoiceOut): void {
  const money = (s: string) => `${s} ${inv.currency}`;
  printFields([
    ...(inv.invoiceId ? [["invoice", inv.invoiceId] as const] : []),
    ["tenant", inv.tenant],
    ["month", inv.month],
    ["status", inv.status === "draft" ? "DRAFT (not an invoice: the month may still change)" : "issued"],
    ...(inv.issuedAt ? [["issued", inv.issuedAt] as const] : []),
  ]);
  if (inv.lines.length > 0) {
    process.stdout.write("\n");
    printTable(
      ["MODEL", "VERSION", "COMPONENT", "QUANTITY", "UNIT", "UNIT_PRICE", "AMOUNT"],
      inv.lines.map((l) => [
        l.model,
        l.version === null ? "all" : String(l.version),
        l.component,
        l.quantity,
        l.unit,
        l.unitPrice ?? "",
        l.amount,
      ]),
    );
  }
  process.stdout.write("\n");
  printFields([
    ["subtotal", money(inv.subtotal)],
    ...inv.adjustments.map((a) => [`adjustment (${a.description})`, money(a.amount)] as const),
    ["total", money(inv.total)],
    ...(inv.sha256 ? [["sha256", inv.sha256] as const] : []),
  ]);
  for (const n of inv.notes) process.stdout.write(`\n${n}`);
  process.stdout.write("\n");
}

/** An admin GET whose body is printed as it came (CSV, HTML, or the stored JSON byte for byte). */
async function adminText(target: Target, path: string, query: Record<string, string | undefined>): Promise<string> {
  const res = await reach(target.apiUrl, () => target.admin().request("GET", path, undefined, query));
  if (res.status < 200 || res.status > 299) throw apiFailure(res);
  return res.text;
}

export function registerInvoices(program: Command): void {
  const invoices = program
    .command("invoices")
    .description("monthly invoices per tenant: drafts of open months, issued (immutable) invoices of closed ones");
  const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

  invoices
    .command("preview")
    .description("a draft of a tenant's invoice of a month, as it stands now (nothing is issued)")
    .requiredOption("--tenant <id>", "the tenant")
    .option("--month <YYYY-MM>", "the UTC month (default: this month)")
    .option("--format <json|csv|html>", "print the draft in this form instead of a summary")
    .action(async (o: { tenant: string; month?: string; format?: string }, cmd: Command) => {
      const month = monthArgument(o.month, "--month");
      const format = formatArgument(o.format);
      const target = resolveTarget(g(cmd));
      const path = `/admin/tenants/${encodeURIComponent(o.tenant)}/invoices/preview`;
      if (format !== undefined && format !== "json") {
        process.stdout.write(await adminText(target, path, { month, format }));
        return;
      }
      const out = await adminCall<InvoiceOut>(target, "GET", path, undefined, { month });
      if (g(cmd).json || format === "json") printJson(out);
      else printInvoice(out);
    });

  invoices
    .command("issue")
    .description("issue a closed month's invoices: one tenant's, or every tenant's with charges; issuing again returns the same invoice")
    .requiredOption("--month <YYYY-MM>", "the UTC month; an open month is refused (exit 2)")
    .option("--tenant <id>", "this tenant only (default: every tenant with priced usage or an adjustment due)")
    .action(async (o: { month: string; tenant?: string }, cmd: Command) => {
      const month = monthArgument(o.month, "--month") ?? o.month;
      const target = resolveTarget(g(cmd));
      const body = { month, ...(o.tenant !== undefined ? { tenant: o.tenant } : {}) };
      const res = await reach(target.apiUrl, () => target.admin().request<unknown>("POST", "/admin/invoices/issue", body));
      if (res.status === 409 && readErrorBody(res.body)?.type === "month_not_closed") {
        // Not a failure of the platform: the command was given a month that cannot be issued yet.
        throw new CliError(readErrorBody(res.body)?.message ?? `month ${month} has not closed`, EXIT.badArguments);
      }
      if (res.status < 200 || res.status > 299) throw apiFailure(res);
      if (g(cmd).json) return printJson(res.body);
      if (o.tenant !== undefined) {
        const inv = res.body as InvoiceOut;
        process.stdout.write(`${res.status === 201 ? "issued" : "already issued"}: ${inv.invoiceId}\n\n`);
        return printInvoice(inv);
      }
      const out = res.body as { month: string; issued: Array<SummaryOut & { created: boolean }>; skipped: number };
      printFields([
        ["month", out.month],
        ["issued now", String(out.issued.filter((i) => i.created).length)],
        ["issued before", String(out.issued.filter((i) => !i.created).length)],
        ["nothing to bill", String(out.skipped)],
      ]);
      if (out.issued.length === 0) return;
      process.stdout.write("\n");
      printSummaries(out.issued);
    });

  invoices
    .command("list")
    .description("issued invoices, oldest first")
    .option("--tenant <id>", "one tenant's, with their totals (default: every tenant's ids)")
    .action(async (o: { tenant?: string }, cmd: Command) => {
      const query = o.tenant !== undefined ? { tenant: o.tenant } : {};
      const out = await adminCall<{ invoices: SummaryOut[] }>(resolveTarget(g(cmd)), "GET", "/admin/invoices", undefined, query);
      if (g(cmd).json) return printJson(out);
      printSummaries(out.invoices);
    });

  invoices
    .command("show <invoiceId>")
    .description("one issued invoice: a summary, or the document itself as json (byte for byte as stored), csv or html")
    .option("--format <json|csv|html>", "print the document in this form")
    .action(async (invoiceId: string, o: { format?: string }, cmd: Command) => {
      const format = formatArgument(o.format) ?? (g(cmd).json ? "json" : undefined);
      const target = resolveTarget(g(cmd));
      const path = `/admin/invoices/${encodeURIComponent(invoiceId)}`;
      if (format !== undefined) {
        const text = await adminText(target, path, { format });
        process.stdout.write(format === "json" ? `${text}\n` : text);
        return;
      }
      printInvoice(await adminCall<InvoiceOut>(target, "GET", path));
    });
}

function printSummaries(rows: readonly SummaryOut[]): void {
  printTable(
    ["INVOICE", "TENANT", "MONTH", "SUBTOTAL", "ADJUSTMENTS", "TOTAL", "CURRENCY", "ISSUED"],
    rows.map((i) => [i.invoiceId, i.tenant, i.month, i.subtotal, i.adjustments, i.total, i.currency, i.issuedAt]),
  );
}
