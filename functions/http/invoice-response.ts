import type { APIGatewayProxyResult } from "aws-lambda";
import { CONTENT_TYPES, INVOICE_CSP_HEADER, type InvoiceFormat } from "../core/billing/render";

/**
 * An invoice in one of its forms (admin and tenant routes alike); the HTML page under a policy
 * that lets nothing load or run, and is not to be framed.
 */
export function invoiceResponse(statusCode: number, body: string, format: InvoiceFormat, requestId: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      "content-type": CONTENT_TYPES[format],
      "x-request-id": requestId,
      "x-content-type-options": "nosniff",
      ...(format === "html" ? { "content-security-policy": INVOICE_CSP_HEADER } : {}),
    },
    body,
  };
}
