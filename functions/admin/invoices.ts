import type { APIGatewayProxyEvent } from "aws-lambda";
import {
  type InvoiceDeps,
  invoiceIn,
  invoiceSummary,
  issuedInvoices,
  issueInvoice,
  issueMonth,
  previewInvoice,
  readInvoice,
} from "../core/billing/invoices";
import { monthOf, parseMonth } from "../core/billing/month";
import { canonicalJson, invoiceIdOf, parseFormat, renderInvoice } from "../core/billing/render";
import { NotFoundError } from "../core/errors";
import { allTenantIds } from "../core/tenants";
import { jsonBody, pathParam, queryParam, requestIdOf } from "../http/event";
import { invoiceResponse } from "../http/invoice-response";
import { json, parseWith } from "../http/respond";
import type { AdminDeps, AdminRoutes } from "./deps";
import { issueInvoicesBody, optionalTenantIdParam, tenantIdParam } from "./schemas";

/** The core's invoice dependencies from the admin function's. */
export function invoiceDepsOf(deps: AdminDeps): InvoiceDeps {
  return {
    usage: deps.usage,
    registry: deps.registry,
    get invoices() {
      return deps.invoices();
    },
    currency: deps.currency,
    closeDelaySeconds: deps.invoiceCloseDelaySeconds,
    retentionDays: deps.usageRetentionDays,
    now: deps.now ?? Date.now,
  };
}

/** Admin routes of invoices: a draft of any tenant's month, issuing a closed month, reading issued ones. */
export function invoiceRoutes(deps: AdminDeps) {
  const { identity, maxBodyBytes } = deps;
  const invoices = invoiceDepsOf(deps);
  const now = deps.now ?? Date.now;
  async function existingTenant(tenantId: string): Promise<string> {
    // Usage outlives its tenant: a deleted tenant's months can still be billed.
    if (!(await identity.getTenant(tenantId))) throw new NotFoundError(`tenant '${tenantId}' does not exist`);
    return tenantId;
  }
  const formatOf = (event: APIGatewayProxyEvent) => parseFormat(queryParam(event, "format"));

  return {
    "GET /admin/tenants/{tenantId}/invoices/preview": async (event, log) => {
      const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
      log.tenantId = tenantId;
      const month = parseMonth(queryParam(event, "month") ?? monthOf(now()));
      const format = formatOf(event);
      const draft = await previewInvoice(invoices, await existingTenant(tenantId), month);
      return invoiceResponse(200, format === "json" ? canonicalJson(draft) : renderInvoice(draft, format), format, requestIdOf(event));
    },
    "POST /admin/invoices/issue": async (event, log) => {
      const body = parseWith(issueInvoicesBody, jsonBody(event, maxBodyBytes).json);
      const month = parseMonth(body.month);
      if (body.tenant !== undefined) {
        log.tenantId = body.tenant;
        const { invoice, created } = await issueInvoice(invoices, await existingTenant(body.tenant), month);
        return invoiceResponse(created ? 201 : 200, invoice.json, "json", requestIdOf(event));
      }
      return json(200, await issueMonth(invoices, month, await allTenantIds(deps.identity)), requestIdOf(event));
    },
    "GET /admin/invoices": async (event) => {
      const tenant = parseWith(optionalTenantIdParam, queryParam(event, "tenant"));
      if (tenant === undefined) {
        const all = await invoices.invoices.all();
        return json(200, { invoices: all.map((i) => ({ invoiceId: invoiceIdOf(i.tenant, i.month), ...i })) }, requestIdOf(event));
      }
      const issued = await issuedInvoices(invoices, tenant);
      return json(200, { tenant, invoices: issued.map((i) => invoiceSummary(i.document)) }, requestIdOf(event));
    },
    "GET /admin/invoices/{invoiceId}": async (event) => {
      const format = formatOf(event);
      const invoice = await readInvoice(invoices, pathParam(event, "invoiceId"));
      return invoiceResponse(200, await invoiceIn(invoices, invoice, format), format, requestIdOf(event));
    },
  } satisfies AdminRoutes;
}
