import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { KeyScope } from "../../infra/shared/routes";
import { ConflictError, NotFoundError } from "../core/errors";
import type { IdentityAdmin, StoredKey, Tenant } from "../core/ports";

/**
 * Tenants and keys in the identity table.
 *   tenant: pk TENANT#<id>#  sk TENANT
 *   key:    pk KEY#<keyId>   sk KEY   gsi1pk TENANT#<id>#  gsi1sk KEY#<createdAt>#<keyId>
 * Tenant partition keys end with '#' so `acme` can never prefix-match `acme-corp`.
 */
export const tenantPk = (tenantId: string) => `TENANT#${tenantId}#`;
export const keyPk = (keyId: string) => `KEY#${keyId}`;

export class DynamoIdentityStore implements IdentityAdmin {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getKey(keyId: string): Promise<StoredKey | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: keyPk(keyId), sk: "KEY" } }));
    const i = out.Item;
    if (!i) return undefined;
    return {
      keyId: String(i.keyId),
      tenantId: String(i.tenantId),
      secretHash: String(i.secretHash),
      scopes: (i.scopes as KeyScope[] | undefined) ?? [],
      status: i.status === "active" ? "active" : "revoked",
      createdAt: String(i.createdAt),
      ...(typeof i.name === "string" ? { name: i.name } : {}),
      ...(typeof i.expiresAt === "string" ? { expiresAt: i.expiresAt } : {}),
    };
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: tenantPk(tenantId), sk: "TENANT" } }));
    const i = out.Item;
    if (!i) return undefined;
    return {
      tenantId: String(i.tenantId),
      name: String(i.name ?? i.tenantId),
      models: (i.models as string[] | undefined) ?? [],
      plan: String(i.plan ?? "default"),
      status: i.status === "active" ? "active" : "disabled",
      createdAt: String(i.createdAt),
    };
  }

  async createTenant(t: Tenant): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: tenantPk(t.tenantId), sk: "TENANT", type: "tenant", ...t, models: [...t.models] },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConflictError(`tenant '${t.tenantId}' already exists`, { cause: err });
      throw err;
    }
  }

  async putKey(k: StoredKey): Promise<void> {
    await this.doc.send(
      new PutCommand({
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
      }),
    );
  }

  async revokeKey(tenantId: string, keyId: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: keyPk(keyId), sk: "KEY" },
          UpdateExpression: "SET #status = :revoked, revokedAt = :now",
          // The tenant check lives in the condition: a key of another tenant looks absent.
          ConditionExpression: "attribute_exists(pk) AND tenantId = :tenant",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":revoked": "revoked", ":now": new Date().toISOString(), ":tenant": tenantId },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException)
        throw new NotFoundError(`tenant '${tenantId}' has no key '${keyId}'`, { cause: err });
      throw err;
    }
  }
}
