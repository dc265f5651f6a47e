import type { AwsClients } from "../aws/clients";
import { S3InvoiceStore } from "../aws/invoice-store";
import { DynamoLimitStore, type LimitStoreOptions } from "../aws/limit-store";
import { DynamoUsageReader } from "../aws/usage-reader";
import type { FunctionSettings } from "../contract/settings";
import type { InvoiceStore } from "../core/billing/invoices";
import type { UsageDeps } from "./create-usage-handler";

export interface UsageWiring {
  /** The model store's bucket, where issued invoices are; without one, the invoice routes fail loudly. */
  readonly modelBucket?: string | undefined;
}

/** The usage function's adapters: the same for both hosts, tuned by the host. */
export function usageDeps(
  clients: AwsClients,
  settings: FunctionSettings,
  limitStore: LimitStoreOptions = {},
  wiring: UsageWiring = {},
): UsageDeps {
  let invoiceStore: InvoiceStore | undefined;
  return {
    usage: new DynamoUsageReader(clients.dynamo, settings.tables.usage),
    limits: new DynamoLimitStore(clients.dynamo, settings.tables.usage, limitStore),
    currency: settings.currency,
    invoices: () => {
      if (!wiring.modelBucket) throw new Error("no model bucket configured (MODEL_BUCKET)");
      invoiceStore ??= new S3InvoiceStore(clients.s3(), wiring.modelBucket);
      return invoiceStore;
    },
  };
}
