import type { APIGatewayProxyEvent } from "aws-lambda";
import { TABLE_ENV } from "../../infra/shared/tables";
import { documentClient } from "../aws/clients";
import { requireEnv } from "../aws/env";
import { DynamoUsageReader } from "../aws/usage-reader";
import { principalFromContext, requireScope } from "../core/principal";
import { EXPORT_QUERY_PARAMS, exportUsage } from "../core/usage-export";
import { USAGE_QUERY_PARAMS, usageReport } from "../core/usage-query";
import { queryParams, requestIdOf } from "../http/event";
import { httpHandler, type LogFields } from "../http/handler";
import { json } from "../http/respond";

const reader = new DynamoUsageReader(documentClient(), requireEnv(TABLE_ENV.usage));

/** The calling tenant, from the authorizer only (never from the request), with `usage:read`. */
function callingTenant(event: APIGatewayProxyEvent, log: LogFields): string {
  const principal = principalFromContext(event.requestContext.authorizer);
  log.tenantId = principal.tenantId;
  requireScope(principal, "usage:read");
  return principal.tenantId;
}

/** `GET /v1/usage` and `GET /v1/usage/records`: the calling tenant's usage. */
export const handler = httpHandler({
  "GET /v1/usage": async (event, log) => {
    const report = await usageReport(reader, callingTenant(event, log), queryParams(event, USAGE_QUERY_PARAMS));
    return json(200, report, requestIdOf(event));
  },
  "GET /v1/usage/records": async (event, log) => {
    const page = await exportUsage(reader, callingTenant(event, log), queryParams(event, EXPORT_QUERY_PARAMS));
    return json(200, page, requestIdOf(event));
  },
});
