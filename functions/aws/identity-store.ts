import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { GSI1 } from "../contract/tables";
import { BadRequestError, ConflictError, NotFoundError } from "../core/errors";
import type { TenantLimits } from "../core/limits/tenant-limits";
import type { IdentityAdmin, Page, StoredKey, Tenant, TenantPatch } from "../core/ports";
import type { KeyScope } from "../core/scopes";
import { StaleRevisionError } from "../core/tenants";
import { whenConditionFails, whenTransactionCancelled } from "./conditions";
import { queryAll } from "./query-all";

/**
 * Tenants and keys in the identity table.
 *   tenant: pk TENANT#<id>#  sk TENANT   gsi1pk TENANTS  gsi1sk TENANT#<id>#   (gsi1 removed once deleted)
 *   key:    pk KEY#<keyId>   sk KEY      gsi1pk TENANT#<id>#  gsi1sk KEY#<createdAt>#<keyId>
 * Tenant partition keys end with '#' so `acme` can never prefix-match `acme-corp`.
 */
export const tenantPk = (tenantId: string) => `TENANT#${tenantId}#`;
export const keyPk = (keyId: string) => `KEY#${keyId}`;
const TENANT_LIST_PK = "TENANTS";

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

function toKey(i: Record<string, unknown>): StoredKey {
  const opt = (name: keyof StoredKey) => (typeof i[name] === "string" ? { [name]: i[name] as string } : {});
  return {
    keyId: String(i.keyId),
    tenantId: String(i.tenantId),
    secretHash: String(i.secretHash),
    scopes: (i.scopes as KeyScope[] | undefined) ?? [],
    status: i.status === "active" ? "active" : "revoked",
    createdAt: String(i.createdAt),
    ...opt("name"),
    ...opt("expiresAt"),
    ...opt("lastUsedAt"),
    ...opt("revokedAt"),
    ...opt("replacedBy"),
    ...opt("rotatedFrom"),
    ...opt("limitKeyId"),
    ...(i.limits && typeof i.limits === "object" ? { limits: i.limits as TenantLimits } : {}),
  };
}

function toTenant(i: Record<string, unknown>): Tenant {
  const updatedAt = str(i.updatedAt);
  return {
    tenantId: String(i.tenantId),
    name: String(i.name ?? i.tenantId),
    models: (i.models as string[] | undefined) ?? [],
    plan: String(i.plan ?? "default"),
    status: i.status === "active" ? "active" : i.status === "deleted" ? "deleted" : "disabled",
    createdAt: String(i.createdAt),
    ...(updatedAt ? { updatedAt } : {}),
    revision: Number(i.revision),
    ...(i.limits && typeof i.limits === "object" ? { limits: i.limits as TenantLimits } : {}),
  };
}

function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key), "utf8").toString("base64url") : undefined;
}

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (v && typeof v === "object" && Object.values(v).every((x) => typeof x === "string")) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new BadRequestError("invalid cursor");
}

export class DynamoIdentityStore implements IdentityAdmin {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getKey(keyId: string): Promise<StoredKey | undefined> {
    // Strongly consistent: a key used right after its creation must be found (the authorizer remembers misses).
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: keyPk(keyId), sk: "KEY" }, ConsistentRead: true }));
    return out.Item ? toKey(out.Item) : undefined;
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: tenantPk(tenantId), sk: "TENANT" }, ConsistentRead: true }),
    );
    return out.Item ? toTenant(out.Item) : undefined;
  }

  async touchKey(keyId: string, usedAt: string, staleBefore: string): Promise<void> {
    // Someone else recorded a use within the interval: nothing to do.
    await whenConditionFails(
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: keyPk(keyId), sk: "KEY" },
          UpdateExpression: "SET lastUsedAt = :now",
          ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt <= :stale)",
          ExpressionAttributeValues: { ":now": usedAt, ":stale": staleBefore },
        }),
      ),
      () => undefined,
    );
  }

  async createTenant(t: Tenant): Promise<void> {
    await whenConditionFails(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: tenantPk(t.tenantId),
            sk: "TENANT",
            type: "tenant",
            gsi1pk: TENANT_LIST_PK,
            gsi1sk: tenantPk(t.tenantId),
            ...t,
            models: [...t.models],
          },
          // Tombstones of deleted tenants count: an id is never reused.
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
      (cause) => {
        throw new ConflictError(`tenant '${t.tenantId}' already exists (or existed: ids of deleted tenants are not reused)`, { cause });
      },
    );
  }

  async listTenants(limit: number, cursor?: string): Promise<Page<Tenant>> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: GSI1,
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": TENANT_LIST_PK },
        Limit: limit,
        ExclusiveStartKey: decodeCursor(cursor),
      }),
    );
    const next = encodeCursor(out.LastEvaluatedKey);
    return { items: (out.Items ?? []).map(toTenant), ...(next ? { cursor: next } : {}) };
  }

  async updateTenant(tenantId: string, patch: TenantPatch, expectedRevision: number, now: string): Promise<Tenant> {
    const names: Record<string, string> = { "#revision": "revision", "#updatedAt": "updatedAt" };
    const values: Record<string, unknown> = { ":one": 1, ":now": now, ":expectedRevision": expectedRevision };
    const sets = ["#revision = #revision + :one", "#updatedAt = :now"];
    const removes: string[] = [];
    const fields: Array<[keyof TenantPatch, unknown]> = [
      ["name", patch.name],
      ["models", patch.models ? [...patch.models] : undefined],
      ["plan", patch.plan],
      ["status", patch.status],
      ["limits", patch.limits ? { ...patch.limits } : undefined],
    ];
    for (const [field, value] of fields) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    if (patch.status === "deleted") {
      // Off the tenant list; the tombstone stays so the id is not reused.
      removes.push("gsi1pk", "gsi1sk");
      sets.push("deletedAt = :now");
    } else {
      sets.push("gsi1pk = :listPk", "gsi1sk = :listSk");
      values[":listPk"] = TENANT_LIST_PK;
      values[":listSk"] = tenantPk(tenantId);
    }
    const out = await whenConditionFails(
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: tenantPk(tenantId), sk: "TENANT" },
          UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ConditionExpression: "attribute_exists(pk) AND #revision = :expectedRevision",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      ),
      async (cause) => {
        if (!(await this.getTenant(tenantId))) throw new NotFoundError(`tenant '${tenantId}' does not exist`, { cause });
        throw new StaleRevisionError(`tenant '${tenantId}' changed concurrently; retry`, { cause });
      },
    );
    return toTenant(out.Attributes ?? {});
  }

  async listKeys(tenantId: string): Promise<StoredKey[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      IndexName: GSI1,
      KeyConditionExpression: "gsi1pk = :p AND begins_with(gsi1sk, :k)",
      ExpressionAttributeValues: { ":p": tenantPk(tenantId), ":k": "KEY#" },
    });
    // The index key already pins the tenant; the check costs nothing and guards the delimiter rule.
    return items.filter((i) => i.tenantId === tenantId).map(toKey);
  }

  async putKey(
    k: StoredKey,
    tenantRevision: number,
    rotate?: { readonly keyId: string; readonly expiresAt: string; readonly now: string },
  ): Promise<void> {
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]> = [
      {
        // Bumping the tenant revision serialises key writes of a tenant: the cap holds under races.
        Update: {
          TableName: this.table,
          Key: { pk: tenantPk(k.tenantId), sk: "TENANT" },
          UpdateExpression: "SET #revision = #revision + :one",
          ConditionExpression: "#status = :active AND #revision = :expectedRevision",
          ExpressionAttributeNames: { "#revision": "revision", "#status": "status" },
          ExpressionAttributeValues: { ":one": 1, ":active": "active", ":expectedRevision": tenantRevision },
        },
      },
      {
        Put: {
          TableName: this.table,
          Item: {
            pk: keyPk(k.keyId),
            sk: "KEY",
            type: "key",
            gsi1pk: tenantPk(k.tenantId),
            gsi1sk: `KEY#${k.createdAt}#${k.keyId}`,
            ...k,
            scopes: [...k.scopes],
          },
          // A key id collision (~95 random bits) must never overwrite another tenant's key.
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
    ];
    if (rotate) {
      items.push({
        Update: {
          TableName: this.table,
          Key: { pk: keyPk(rotate.keyId), sk: "KEY" },
          UpdateExpression: "SET replacedBy = :new, expiresAt = :exp",
          ConditionExpression:
            "tenantId = :tenant AND #status = :active AND attribute_not_exists(replacedBy) AND (attribute_not_exists(expiresAt) OR expiresAt > :now)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":new": k.keyId,
            ":exp": rotate.expiresAt,
            ":tenant": k.tenantId,
            ":active": "active",
            ":now": rotate.now,
          },
        },
      });
    }
    await whenTransactionCancelled(this.doc.send(new TransactWriteCommand({ TransactItems: items })), ([tenant, key, old], cause) => {
      if (tenant) throw new StaleRevisionError(`tenant '${k.tenantId}' changed concurrently; retry`, { cause });
      if (old) throw new ConflictError(`key '${rotate?.keyId}' changed concurrently (revoked, expired or rotated)`, { cause });
      if (key) throw new ConflictError("key id collision; retry", { cause });
    });
  }

  async setKeyLimits(tenantId: string, keyId: string, limits: TenantLimits): Promise<StoredKey> {
    const set = Object.keys(limits).length > 0;
    const out = await whenConditionFails(
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: keyPk(keyId), sk: "KEY" },
          UpdateExpression: set ? "SET #limits = :limits" : "REMOVE #limits",
          // As for revocation: a key of another tenant looks absent.
          ConditionExpression: "attribute_exists(pk) AND tenantId = :tenant",
          ExpressionAttributeNames: { "#limits": "limits" },
          ExpressionAttributeValues: { ":tenant": tenantId, ...(set ? { ":limits": { ...limits } } : {}) },
          ReturnValues: "ALL_NEW",
        }),
      ),
      (cause) => {
        throw new NotFoundError(`tenant '${tenantId}' has no key '${keyId}'`, { cause });
      },
    );
    return toKey(out.Attributes ?? {});
  }

  async revokeKey(tenantId: string, keyId: string, now = new Date().toISOString()): Promise<void> {
    await whenConditionFails(
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: keyPk(keyId), sk: "KEY" },
          UpdateExpression: "SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :now)",
          // The tenant check lives in the condition: a key of another tenant looks absent.
          ConditionExpression: "attribute_exists(pk) AND tenantId = :tenant",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":revoked": "revoked", ":now": now, ":tenant": tenantId },
        }),
      ),
      (cause) => {
        throw new NotFoundError(`tenant '${tenantId}' has no key '${keyId}'`, { cause });
      },
    );
  }
}
