import { TABLE_ENV } from "../../infra/shared/tables";
import { documentClient } from "../aws/clients";
import { requireEnv } from "../aws/env";
import { DynamoUsageReader } from "../aws/usage-reader";
import { principalFromContext, requireScope } from "../core/principal";
import { usageReport } from "../core/usage-query";
import { queryParam, requestIdOf } from "../http/event";
import { httpHandler } from "../http/handler";
import { json } from "../http/respond";

const reader = new DynamoUsageReader(documentClient(), requireEnv(TABLE_ENV.usage));

/** `GET /v1/usage`: the calling tenant's usage; the tenant comes from the authorizer only. */
export const handler = httpHandler({
  "GET /v1/usage": async (event, log) => {
    const principal = principalFromContext(event.requestContext.authorizer);
    log.tenantId = principal.tenantId;
    requireScope(principal, "usage:read");
    const report = await usageReport(reader, principal.tenantId, {
      from: queryParam(event, "from"),
      to: queryParam(event, "to"),
      model: queryParam(event, "model"),
      by: queryParam(event, "by"),
    });
    return json(200, report, requestIdOf(event));
  },
});
