import type { Command } from "commander";
import { isKeyScope, KEY_SCOPES } from "../../functions/core/scopes";
import { adminCall, type GlobalOptions, resolveTarget } from "../context";
import { parseDuration, parseExpiry, parseList } from "../durations";
import { argumentError } from "../errors";
import { describeLimits, type LimitFlags, type Limits, limitsFrom, limitsUpdate, withLimitOptions } from "../limit-flags";
import { printJson, printTable, shortTime } from "../output";

interface KeyOut {
  keyId: string;
  prefix: string;
  name?: string;
  scopes: string[];
  status: string;
  createdAt: string;
  lastUsedAt?: string;
  expiresAt?: string;
  replacedBy?: string;
  limits?: Limits;
}

interface CreatedOut {
  keyId: string;
  apiKey: string;
  tenantId: string;
  expiresAt?: string;
  previousKeyId?: string;
  previousValidUntil?: string;
}

const enc = encodeURIComponent;

function printSecret(k: CreatedOut): void {
  process.stdout.write(`${k.apiKey}\n`);
  process.stderr.write(`key ${k.keyId} for tenant ${k.tenantId}: store it now, it is not shown again\n`);
}

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("create, list, limit, revoke and rotate a tenant's API keys");
  const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

  withLimitOptions(
    keys
      .command("create")
      .description(
        "create an API key; the key is printed this once (on stdout, alone, for scripts); limit flags limit this key on top of its tenant",
      )
      .argument("<tenant>", "tenant id")
      .option("--name <n>", "a name to recognise the key by")
      .option("--expires <ISO|30d>", "expiry: an ISO date-time or a duration from now (90s, 10m, 12h, 30d)")
      .option("--scopes <list>", `comma-separated scopes: ${KEY_SCOPES.join(", ")} (default: all)`),
  ).action(async (tenant: string, o: { name?: string; expires?: string; scopes?: string } & LimitFlags, cmd: Command) => {
    const opts = g(cmd);
    const scopes = o.scopes !== undefined ? parseList(o.scopes) : undefined;
    const bad = scopes?.find((s) => !isKeyScope(s));
    if (bad !== undefined || scopes?.length === 0) throw argumentError(`--scopes takes ${KEY_SCOPES.join(", ")}; got '${o.scopes}'`);
    const limits = limitsFrom(o);
    const body = {
      ...(o.name ? { name: o.name } : {}),
      ...(o.expires ? { expiresAt: parseExpiry(o.expires, "--expires") } : {}),
      ...(scopes ? { scopes } : {}),
      ...(limits ? { limits } : {}),
    };
    const k = await adminCall<CreatedOut>(resolveTarget(opts), "POST", `/admin/tenants/${enc(tenant)}/keys`, body);
    if (opts.json) return printJson(k);
    printSecret(k);
  });

  withLimitOptions(
    keys
      .command("update")
      .description("change a key's own limits, enforced on top of its tenant's (limit flags change only the limits named)")
      .argument("<tenant>", "tenant id")
      .argument("<keyId>", "key id (the 16 characters after mg_live_)")
      .option("--clear-limits", "remove every limit of the key before applying the limit flags"),
  ).action(async (tenant: string, keyId: string, o: LimitFlags & { clearLimits?: boolean }, cmd: Command) => {
    const opts = g(cmd);
    const target = resolveTarget(opts);
    const limits = await limitsUpdate(o, async () => {
      const out = await adminCall<{ keys: KeyOut[] }>(target, "GET", `/admin/tenants/${enc(tenant)}/keys`);
      return out.keys.find((k) => k.keyId === keyId)?.limits;
    });
    if (!limits) throw argumentError("keys update needs --clear-limits or a limit flag");
    const k = await adminCall<KeyOut>(target, "PATCH", `/admin/tenants/${enc(tenant)}/keys/${enc(keyId)}`, { limits });
    if (opts.json) return printJson(k);
    process.stdout.write(`key ${k.keyId}: limits ${describeLimits(k.limits)}\n`);
  });

  keys
    .command("list")
    .description("list a tenant's keys (id, prefix, name, status, dates; never the secret)")
    .argument("<tenant>", "tenant id")
    .action(async (tenant: string, _o: unknown, cmd: Command) => {
      const opts = g(cmd);
      const out = await adminCall<{ tenantId: string; keys: KeyOut[] }>(resolveTarget(opts), "GET", `/admin/tenants/${enc(tenant)}/keys`);
      if (opts.json) return printJson(out);
      printTable(
        ["KEY ID", "NAME", "STATUS", "SCOPES", "LIMITS", "CREATED", "LAST USED", "EXPIRES"],
        out.keys.map((k) => [
          k.keyId,
          k.name,
          k.replacedBy && k.status === "active" ? "rotating" : k.status,
          k.scopes.join(","),
          k.limits ? describeLimits(k.limits) : "",
          shortTime(k.createdAt),
          shortTime(k.lastUsedAt),
          shortTime(k.expiresAt),
        ]),
      );
    });

  keys
    .command("revoke")
    .description("revoke a key: refused within the authorizer cache TTL")
    .argument("<tenant>", "tenant id")
    .argument("<keyId>", "key id (the 16 characters after mg_live_)")
    .action(async (tenant: string, keyId: string, _o: unknown, cmd: Command) => {
      const opts = g(cmd);
      const out = await adminCall<{ keyId: string }>(resolveTarget(opts), "DELETE", `/admin/tenants/${enc(tenant)}/keys/${enc(keyId)}`);
      if (opts.json) return printJson(out);
      process.stdout.write(`revoked key ${out.keyId}\n`);
    });

  keys
    .command("rotate")
    .description("rotate a key: a new key now; the old one keeps working for the grace period, then is refused")
    .argument("<tenant>", "tenant id")
    .argument("<keyId>", "id of the key to replace")
    .option("--grace <duration>", "how long the old key stays valid (90s, 10m, 12h, 7d)", "1h")
    .option("--expires <ISO|30d>", "expiry of the new key")
    .action(async (tenant: string, keyId: string, o: { grace: string; expires?: string }, cmd: Command) => {
      const opts = g(cmd);
      const body = {
        graceSeconds: parseDuration(o.grace, "--grace"),
        ...(o.expires ? { expiresAt: parseExpiry(o.expires, "--expires") } : {}),
      };
      const k = await adminCall<CreatedOut>(resolveTarget(opts), "POST", `/admin/tenants/${enc(tenant)}/keys/${enc(keyId)}/rotate`, body);
      if (opts.json)
        return printJson({
          keyId: k.keyId,
          apiKey: k.apiKey,
          tenantId: k.tenantId,
          previousKeyId: k.previousKeyId,
          previousValidUntil: k.previousValidUntil,
          ...(k.expiresAt ? { expiresAt: k.expiresAt } : {}),
        });
      printSecret(k);
      process.stderr.write(`old key ${k.previousKeyId} stays valid until ${k.previousValidUntil}\n`);
    });
}
