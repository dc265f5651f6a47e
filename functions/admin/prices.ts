import type { APIGatewayProxyEvent } from "aws-lambda";
import { NotFoundError } from "../core/errors";
import { type ListedPrice, priceHistory, pricesAt, setPrice } from "../core/money/price-book";
import { type Price, priceToJson } from "../core/money/prices";
import { jsonBody, pathParam, queryParam, requestIdOf } from "../http/event";
import { json, parseWith } from "../http/respond";
import type { AdminDeps, AdminRoutes } from "./deps";
import { modelParam, optionalModelParam, optionalTenantIdParam, setPriceBody } from "./schemas";

const modelOf = (event: APIGatewayProxyEvent) => parseWith(modelParam, pathParam(event, "model"));
const tenantFilter = (event: APIGatewayProxyEvent) => parseWith(optionalTenantIdParam, queryParam(event, "tenant"));
const listed = (l: ListedPrice) => ({ ...priceToJson(l.price), status: l.status });

/** Admin routes of the price book: set a price (from a time on), the prices in force, a model's history. */
export function priceRoutes(deps: AdminDeps) {
  const { registry, maxBodyBytes, currency, registryCacheTtlMs } = deps;
  const now = deps.now ?? Date.now;
  async function pricesOf(model: string): Promise<readonly Price[]> {
    const m = await registry.getModel(model);
    if (!m) throw new NotFoundError(`model '${model}' does not exist`);
    return m.prices ?? [];
  }

  return {
    "POST /admin/models/{model}/prices": async (event) => {
      const { version, tenant, from, ...components } = parseWith(setPriceBody, jsonBody(event, maxBodyBytes).json);
      const price = await setPrice(
        registry,
        modelOf(event),
        { version, tenant, from, components },
        { now: now(), currency, leadMs: registryCacheTtlMs },
      );
      return json(201, priceToJson(price), requestIdOf(event));
    },
    "GET /admin/models/{model}/prices": async (event) => {
      const history = priceHistory(await pricesOf(modelOf(event)), { tenant: tenantFilter(event) });
      return json(200, { currency, prices: history.map(priceToJson) }, requestIdOf(event));
    },
    "GET /admin/prices": async (event) => {
      const model = parseWith(optionalModelParam, queryParam(event, "model"));
      const models = model !== undefined ? [model] : await registry.listModels();
      const all = (await Promise.all(models.map(pricesOf))).flat();
      const prices = pricesAt(all, now(), { tenant: tenantFilter(event) }).map(listed);
      return json(200, { currency, prices }, requestIdOf(event));
    },
  } satisfies AdminRoutes;
}
