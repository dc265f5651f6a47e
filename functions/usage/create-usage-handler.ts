import type { APIGatewayProxyEvent } from "aws-lambda";
import { limitStatusOf } from "../core/admission";
import { type InvoiceStore, invoiceIn, invoiceSummary, issuedInvoices, readInvoice } from "../core/billing/invoices";
import { parseFormat } from "../core/billing/render";
import type { LimitStore } from "../core/limits/tenant-limits";
import type { UsageReader } from "../core/ports";
import { type Principal, principalFromContext, requireScope } from "../core/principal";
import { EXPORT_QUERY_PARAMS, exportUsage } from "../core/usage-export";
import { admitUsageRead, USAGE_QUERY_PARAMS, usageReport, usageReportJson } from "../core/usage-query";
import { pathParam, queryParam, queryParams, requestIdOf } from "../http/event";
import { httpHandler, type LogFields } from "../http/handler";
import { invoiceResponse } from "../http/invoice-response";
import { json } from "../http/respond";

export interface UsageDeps {
  readonly usage: UsageReader;
  /** Where the caller stands against its limits (`peek`), and the per-tenant rate of usage reads. */
  readonly limits: LimitStore;
  /** The platform currency costs are in. */
  readonly currency: string;
  /** Issued invoices (the model store); called on first use, so the usage routes need no bucket. */
  readonly invoices: () => InvoiceStore;
}

/** The caller, from the authorizer only (never from the request), with `usage:read`. */
function caller(event: APIGatewayProxyEvent, log: LogFields): Principal {
  const principal = principalFromContext(event.requestContext.authorizer);
  log.tenantId = principal.tenantId;
  requireScope(principal, "usage:read");
  return principal;
}

/** `GET /v1/usage`, `GET /v1/usage/records` and `GET /v1/invoices[/{id}]`: the calling tenant's usage and invoices. */
export function createUsageHandler(deps: UsageDeps) {
  return httpHandler<"usage">({
    "GET /v1/usage": async (event, log) => {
      const principal = caller(event, log);
      const [report, status] = await Promise.all([
        usageReport(deps.usage, principal.tenantId, queryParams(event, USAGE_QUERY_PARAMS)),
        limitStatusOf(deps.limits, principal, Date.now()),
      ]);
      return json(200, { ...usageReportJson(report, deps.currency), limits: status }, requestIdOf(event));
    },
    "GET /v1/usage/records": async (event, log) => {
      const { tenantId } = caller(event, log);
      await admitUsageRead(deps.limits, tenantId, { now: Date.now(), requestId: requestIdOf(event) });
      const page = await exportUsage(deps.usage, tenantId, queryParams(event, EXPORT_QUERY_PARAMS));
      return json(200, page, requestIdOf(event));
    },
    "GET /v1/invoices": async (event, log) => {
      const { tenantId } = caller(event, log);
      await admitUsageRead(deps.limits, tenantId, { now: Date.now(), requestId: requestIdOf(event) });
      const issued = await issuedInvoices({ invoices: deps.invoices() }, tenantId);
      return json(200, { tenant: tenantId, invoices: issued.map((i) => invoiceSummary(i.document)) }, requestIdOf(event));
    },
    "GET /v1/invoices/{invoiceId}": async (event, log) => {
      const { tenantId } = caller(event, log);
      const format = parseFormat(queryParam(event, "format"));
      await admitUsageRead(deps.limits, tenantId, { now: Date.now(), requestId: requestIdOf(event) });
      // Another tenant's invoice id answers exactly like one that names nothing: 404.
      const store = { invoices: deps.invoices() };
      const invoice = await readInvoice(store, pathParam(event, "invoiceId"), tenantId);
      return invoiceResponse(200, await invoiceIn(store, invoice, format), format, requestIdOf(event));
    },
  });
}
