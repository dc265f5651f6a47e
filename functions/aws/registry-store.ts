import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ConflictError, NotFoundError } from "../core/errors";
import type { Price } from "../core/money/prices";
import type { RegistryAdmin } from "../core/ports";
import type { Alias, AliasHistoryEntry, AliasTarget, EmbeddingSpec, ModelRecord, ModelVersion, VersionStatus } from "../core/registry";
import { whenConditionFails, whenTransactionCancelled } from "./conditions";
import { queryAll } from "./query-all";
import {
  aliasFromItem,
  aliasSk,
  aliasTargetItem,
  CATALOG_PK,
  historyFromItem,
  historyPk,
  historySk,
  modelPk,
  PRICE_SK_PREFIX,
  priceFromItem,
  priceItem,
  versionFromItem,
  versionSk,
} from "./registry-items";

export class DynamoRegistry implements RegistryAdmin {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getModel(model: string): Promise<ModelRecord | undefined> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": modelPk(model) },
    });
    const head = items.find((i) => i.sk === "MODEL");
    if (!head) return undefined;
    const versions = new Map<number, ModelVersion>();
    const aliases = new Map<string, Alias>();
    const prices: Price[] = [];
    for (const i of items) {
      if (String(i.sk).startsWith("VERSION#")) {
        const v = versionFromItem(i);
        versions.set(v.version, v);
      } else if (String(i.sk).startsWith("ALIAS#")) {
        const a = aliasFromItem(i);
        aliases.set(a.alias, a);
      } else if (String(i.sk).startsWith(PRICE_SK_PREFIX)) {
        prices.push(priceFromItem(i));
      }
    }
    return {
      model,
      defaultAlias: String(head.defaultAlias ?? "prod"),
      versions,
      aliases,
      prices,
      ...(typeof head.description === "string" ? { description: head.description } : {}),
      ...(typeof head.maxTokensPerRequest === "number" ? { maxTokensPerRequest: head.maxTokensPerRequest } : {}),
      ...embeddingOf(head.embedding),
    };
  }

  async listModels(): Promise<string[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": CATALOG_PK },
    });
    return items.map((i) => String(i.model)).sort();
  }

  async getAlias(model: string, alias: string): Promise<Alias | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: modelPk(model), sk: aliasSk(alias) } }));
    return out.Item ? aliasFromItem(out.Item) : undefined;
  }

  async setAlias(
    model: string,
    alias: string,
    target: AliasTarget,
    expectedRevision: number,
    actor: string,
    rollbackOf?: number,
  ): Promise<Alias> {
    const previous = expectedRevision > 0 ? await this.getAlias(model, alias) : undefined;
    const stored = aliasTargetItem(target);
    const next = aliasFromItem({
      model,
      alias,
      ...stored,
      revision: expectedRevision + 1,
      updatedAt: new Date().toISOString(),
      updatedBy: actor,
    });
    await whenTransactionCancelled(
      this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { pk: modelPk(model), sk: aliasSk(alias), type: "alias", model, alias, ...stored, ...revisionFields(next) },
                ConditionExpression: expectedRevision === 0 ? "attribute_not_exists(pk)" : "revision = :expected",
                ...(expectedRevision === 0 ? {} : { ExpressionAttributeValues: { ":expected": expectedRevision } }),
              },
            },
            {
              // History entry per revision; its own condition makes a replay of the same move fail too.
              Put: {
                TableName: this.table,
                Item: {
                  pk: historyPk(model),
                  sk: historySk(alias, next.revision),
                  type: "aliasHistory",
                  model,
                  alias,
                  revision: next.revision,
                  from: previous ? aliasTargetItem(previous) : null,
                  to: stored,
                  at: next.updatedAt,
                  by: actor,
                  ...(rollbackOf !== undefined ? { rollbackOf } : {}),
                },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
          ],
        }),
      ),
      (failed, cause) => {
        if (failed.some(Boolean))
          throw new ConflictError(`alias '${alias}' of '${model}' is no longer at revision ${expectedRevision}`, { cause });
      },
    );
    return next;
  }

  async aliasHistory(model: string, alias: string, limit: number): Promise<AliasHistoryEntry[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": historyPk(model), ":prefix": `${alias}#` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(historyFromItem);
  }

  async aliasHistoryEntry(model: string, alias: string, revision: number): Promise<AliasHistoryEntry | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: historyPk(model), sk: historySk(alias, revision) } }),
    );
    return out.Item ? historyFromItem(out.Item) : undefined;
  }

  async addPrice(p: Price): Promise<void> {
    // A price is never overwritten: the history is append-only.
    await this.putUnderModel(p.model, priceItem(p), `a price of '${p.model}' for this scope already starts at ${p.effectiveFrom}`);
  }

  async registerVersion(v: ModelVersion): Promise<void> {
    await this.putUnderModel(
      v.model,
      { pk: modelPk(v.model), sk: versionSk(v.version), type: "version", ...v },
      `version ${v.version} of '${v.model}' already exists; versions are immutable`,
    );
  }

  /**
   * Puts a new item into a model's partition: NotFoundError when the model does not exist (checked
   * in the same transaction, so a concurrent delete stays honest), ConflictError with `taken`
   * when the item already exists (nothing in a model's history is overwritten).
   */
  private async putUnderModel(model: string, item: Record<string, unknown>, taken: string): Promise<void> {
    await whenTransactionCancelled(
      this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.table,
                Key: { pk: modelPk(model), sk: "MODEL" },
                ConditionExpression: "attribute_exists(pk)",
              },
            },
            { Put: { TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
          ],
        }),
      ),
      ([missing, exists], cause) => {
        if (missing) throw new NotFoundError(`model '${model}' does not exist`, { cause });
        if (exists) throw new ConflictError(taken, { cause });
      },
    );
  }

  async setVersionStatus(model: string, version: number, from: VersionStatus, to: VersionStatus, reason?: string): Promise<void> {
    await whenConditionFails(
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: modelPk(model), sk: versionSk(version) },
          UpdateExpression: reason
            ? "SET #status = :to, updatedAt = :at, statusReason = :reason"
            : "SET #status = :to, updatedAt = :at REMOVE statusReason",
          ConditionExpression: "#status = :from",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":to": to,
            ":from": from,
            ":at": new Date().toISOString(),
            ...(reason ? { ":reason": reason } : {}),
          },
        }),
      ),
      (cause) => {
        throw new ConflictError(`version ${version} of '${model}' is not ${from}`, { cause });
      },
    );
  }
}

function revisionFields(a: Alias) {
  return { revision: a.revision, updatedAt: a.updatedAt, updatedBy: a.updatedBy };
}

/** The model item's embedding spec, when it has a well-formed one. */
function embeddingOf(item: unknown): { embedding?: EmbeddingSpec } {
  if (typeof item !== "object" || item === null) return {};
  const { dimensions, truncatable } = item as Record<string, unknown>;
  return typeof dimensions === "number" ? { embedding: { dimensions, truncatable: truncatable === true } } : {};
}
