import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { ConflictError } from "../core/errors";
import type { RegistryAdmin } from "../core/ports";
import type { Alias, ModelRecord, ModelVersion, WeightedTarget } from "../core/registry";
import { queryAll } from "./query-all";
import { aliasFromItem, aliasSk, CATALOG_PK, historyPk, historySk, modelPk, versionFromItem } from "./registry-items";

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
    for (const i of items) {
      if (String(i.sk).startsWith("VERSION#")) {
        const v = versionFromItem(i);
        versions.set(v.version, v);
      } else if (String(i.sk).startsWith("ALIAS#")) {
        const a = aliasFromItem(i);
        aliases.set(a.alias, a);
      }
    }
    return {
      model,
      defaultAlias: String(head.defaultAlias ?? "prod"),
      versions,
      aliases,
      ...(typeof head.description === "string" ? { description: head.description } : {}),
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
    targets: readonly WeightedTarget[],
    expectedRevision: number,
    actor: string,
  ): Promise<Alias> {
    const previous = expectedRevision > 0 ? await this.getAlias(model, alias) : undefined;
    const next: Alias = {
      model,
      alias,
      targets: [...targets],
      revision: expectedRevision + 1,
      updatedAt: new Date().toISOString(),
      updatedBy: actor,
    };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { pk: modelPk(model), sk: aliasSk(alias), type: "alias", ...next },
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
                  from: previous?.targets ?? null,
                  to: next.targets,
                  at: next.updatedAt,
                  by: actor,
                },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException && err.CancellationReasons?.some((r) => r.Code === "ConditionalCheckFailed")) {
        throw new ConflictError(`alias '${alias}' of '${model}' is no longer at revision ${expectedRevision}`, { cause: err });
      }
      throw err;
    }
    return next;
  }
}
