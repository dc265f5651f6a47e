import type { APIGatewayProxyEvent } from "aws-lambda";
import { TABLE_ENV } from "../../infra/shared/tables";
import { documentClient } from "../aws/clients";
import { requireEnv } from "../aws/env";
import { DynamoLimitStore } from "../aws/limit-store";
import { DynamoUsageReader } from "../aws/usage-reader";
import { limitStatusOf } from "../core/admission";
import { type Principal, principalFromContext, requireScope } from "../core/principal";
import { EXPORT_QUERY_PARAMS, exportUsage } from "../core/usage-export";
import { admitUsageRead, USAGE_QUERY_PARAMS, usageReport } from "../core/usage-query";
import { queryParams, requestIdOf } from "../http/event";
import { httpHandler, type LogFields } from "../http/handler";
import { json } from "../http/respond";

const reader = new DynamoUsageReader(documentClient(), requireEnv(TABLE_ENV.usage));
/** Where the caller stands against its limits (`peek`), and the per-tenant rate of usage reads. */
const limits = new DynamoLimitStore(documentClient(), requireEnv(TABLE_ENV.usage));

/** The caller, from the authorizer only (never from the request), with `usage:read`. */
function caller(event: APIGatewayProxyEvent, log: LogFields): Principal {
  const principal = principalFromContext(event.requestContext.authorizer);
  log.tenantId = principal.tenantId;
  requireScope(principal, "usage:read");
  return principal;
}

/** `GET /v1/usage` and `GET /v1/usage/records`: the calling tenant's usage. */
export const handler = httpHandler({
  "GET /v1/usage": async (event, log) => {
    const principal = caller(event, log);
    await admitUsageRead(limits, principal.tenantId, { now: Date.now(), requestId: requestIdOf(event) });
    const [report, status] = await Promise.all([
      usageReport(reader, principal.tenantId, queryParams(event, USAGE_QUERY_PARAMS)),
      limitStatusOf(limits, principal, Date.now()),
    ]);
    return json(200, { ...report, limits: status }, requestIdOf(event));
  },
  "GET /v1/usage/records": async (event, log) => {
    const { tenantId } = caller(event, log);
    await admitUsageRead(limits, tenantId, { now: Date.now(), requestId: requestIdOf(event) });
    const page = await exportUsage(reader, tenantId, queryParams(event, EXPORT_QUERY_PARAMS));
    return json(200, page, requestIdOf(event));
  },
});
