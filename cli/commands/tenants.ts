import type { Command } from "commander";
import { adminCall, type GlobalOptions, resolveTarget } from "../context";
import { parseList } from "../durations";
import { argumentError } from "../errors";
import { describeLimits, type LimitFlags, type Limits, limitsFrom, limitsUpdate, withLimitOptions } from "../limit-flags";
import { printFields, printJson, printTable, shortTime } from "../output";

interface TenantOut {
  tenantId: string;
  name: string;
  models: string[];
  plan: string;
  status: string;
  createdAt: string;
  updatedAt?: string;
  limits?: Limits;
}

const enc = encodeURIComponent;

function showTenant(t: TenantOut, json: boolean | undefined): void {
  if (json) {
    printJson(t);
    return;
  }
  printFields([
    ["tenant", t.tenantId],
    ["name", t.name],
    ["status", t.status],
    ["plan", t.plan],
    ["models", t.models.join(",") || "(none)"],
    ["limits", describeLimits(t.limits)],
    ["created", shortTime(t.createdAt)],
    ["updated", shortTime(t.updatedAt)],
  ]);
}

export function registerTenants(program: Command): void {
  const tenants = program.command("tenants").description("create, list, show, update, disable and delete tenants");
  const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

  withLimitOptions(
    tenants
      .command("create")
      .description("create a tenant granted some models, optionally with limits")
      .argument("<id>", "tenant id: 3-40 of [a-z0-9-]")
      .requiredOption("--models <list>", "comma-separated model names, or '*' for all models")
      .option("--name <text>", "display name (default: the id)")
      .option("--plan <plan>", "plan name (default: default)"),
  ).action(async (id: string, o: { models: string; name?: string; plan?: string } & LimitFlags, cmd: Command) => {
    const opts = g(cmd);
    const limits = limitsFrom(o);
    const body = {
      tenantId: id,
      models: parseList(o.models),
      ...(o.name ? { name: o.name } : {}),
      ...(o.plan ? { plan: o.plan } : {}),
      ...(limits ? { limits } : {}),
    };
    showTenant(await adminCall<TenantOut>(resolveTarget(opts), "POST", "/admin/tenants", body), opts.json);
  });

  tenants
    .command("list")
    .description("list tenants (deleted tenants are not listed)")
    .action(async (_o: unknown, cmd: Command) => {
      const opts = g(cmd);
      const target = resolveTarget(opts);
      const all: TenantOut[] = [];
      let cursor: string | undefined;
      do {
        const page = await adminCall<{ tenants: TenantOut[]; cursor?: string }>(target, "GET", "/admin/tenants", undefined, {
          limit: "100",
          cursor,
        });
        all.push(...page.tenants);
        cursor = page.cursor;
      } while (cursor);
      if (opts.json) return printJson({ tenants: all });
      printTable(
        ["TENANT", "NAME", "STATUS", "PLAN", "MODELS", "CREATED"],
        all.map((t) => [t.tenantId, t.name, t.status, t.plan, t.models.join(","), shortTime(t.createdAt)]),
      );
    });

  tenants
    .command("show")
    .description("show one tenant")
    .argument("<id>", "tenant id")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const opts = g(cmd);
      showTenant(await adminCall<TenantOut>(resolveTarget(opts), "GET", `/admin/tenants/${enc(id)}`), opts.json);
    });

  withLimitOptions(
    tenants
      .command("update")
      .description("change a tenant's model grants, name, plan or limits (limit flags change only the limits named)")
      .argument("<id>", "tenant id")
      .option("--models <list>", "replace the grants: comma-separated model names, or '*'")
      .option("--name <text>", "new display name")
      .option("--plan <plan>", "new plan")
      .option("--clear-limits", "remove every limit before applying the limit flags"),
  ).action(async (id: string, o: { models?: string; name?: string; plan?: string; clearLimits?: boolean } & LimitFlags, cmd: Command) => {
    const opts = g(cmd);
    if (o.models === undefined && o.name === undefined && o.plan === undefined && !limitsFrom(o) && !o.clearLimits)
      throw argumentError("tenants update needs at least one of --models, --name, --plan, --clear-limits or a limit flag");
    const target = resolveTarget(opts);
    const limits = await limitsUpdate(o, async () => (await adminCall<TenantOut>(target, "GET", `/admin/tenants/${enc(id)}`)).limits);
    const body = {
      ...(o.models !== undefined ? { models: parseList(o.models) } : {}),
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.plan !== undefined ? { plan: o.plan } : {}),
      ...(limits ? { limits } : {}),
    };
    showTenant(await adminCall<TenantOut>(target, "PATCH", `/admin/tenants/${enc(id)}`, body), opts.json);
  });

  tenants
    .command("disable")
    .description("disable a tenant: all its keys are refused within the authorizer cache TTL")
    .argument("<id>", "tenant id")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const opts = g(cmd);
      showTenant(await adminCall<TenantOut>(resolveTarget(opts), "POST", `/admin/tenants/${enc(id)}/disable`), opts.json);
    });

  tenants
    .command("enable")
    .description("re-enable a disabled tenant")
    .argument("<id>", "tenant id")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const opts = g(cmd);
      showTenant(await adminCall<TenantOut>(resolveTarget(opts), "POST", `/admin/tenants/${enc(id)}/enable`), opts.json);
    });

  tenants
    .command("delete")
    .description("delete a tenant: its keys are revoked, its usage is kept, its id is never reused")
    .argument("<id>", "tenant id")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const opts = g(cmd);
      const out = await adminCall<{ tenantId: string; revokedKeys: number }>(resolveTarget(opts), "DELETE", `/admin/tenants/${enc(id)}`);
      if (opts.json) return printJson(out);
      process.stdout.write(`deleted tenant ${out.tenantId} (${out.revokedKeys} key(s) revoked; usage kept)\n`);
    });
}
