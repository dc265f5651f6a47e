import { S3ArtifactStore } from "../aws/artifact-store";
import type { AwsClients } from "../aws/clients";
import { DynamoIdentityStore } from "../aws/identity-store";
import { S3InvoiceStore } from "../aws/invoice-store";
import { DynamoPoolCatalog } from "../aws/pool-catalog";
import { DynamoRegistry } from "../aws/registry-store";
import { DynamoUsageReader } from "../aws/usage-reader";
import { DynamoUsageSink } from "../aws/usage-sink";
import { MODEL_ROUTES, type RouteMap } from "../contract/routes";
import type { FunctionSettings } from "../contract/settings";
import type { ReconcileDeps } from "../core/access";
import type { InvoiceStore } from "../core/billing/invoices";
import type { PoolCatalog, PoolCostSource, PoolStateSource } from "../core/billing/showback-report";
import type { AccessLog, ArtifactStore, IdentityAdmin, RegistryAdmin, UsageReader } from "../core/ports";
import type { Route } from "../http/handler";

/**
 * How a registered version becomes ready: `automatic` where the host watches the registry and
 * serves new versions itself (the local platform), `deploy` where the operator adds it to the
 * config and runs `cdk deploy` (the cloud). The CLI tells the user what happens next from it.
 */
export type VersionActivation = "automatic" | "deploy";

/** What the admin function needs. */
export interface AdminDeps {
  readonly identity: IdentityAdmin;
  readonly registry: RegistryAdmin;
  readonly usage: UsageReader;
  /** Reconciliation: the gateway's access log, the usage records, and the sink its repairs write through. */
  readonly reconciliation: ReconcileDeps;
  /** The model store; called on first use so the other admin routes need no bucket configured. */
  readonly artifacts: () => ArtifactStore;
  /** Issued invoices, in the model store too; called on first use, like `artifacts`. */
  readonly invoices: () => InvoiceStore;
  /** How long after a month ends its invoices may be issued. */
  readonly invoiceCloseDelaySeconds: number;
  /** Days usage records are kept: older months are no longer re-added for adjustments. */
  readonly usageRetentionDays: number;
  readonly versionActivation: VersionActivation;
  /** The config's name, which SageMaker resource names (inference components) start with. */
  readonly platformName: string;
  readonly maxBodyBytes: number;
  /** The platform currency prices and costs are in. */
  readonly currency: string;
  /** How long gateways cache a model's registry entry: a new price starts no sooner. */
  readonly registryCacheTtlMs: number;
  /** The clock prices are dated by. @default Date.now */
  readonly now?: () => number;
  readonly maxKeysPerTenant: number;
  /** Showback of the shared pools: the pools the registry holds and where their costs come from. Absent: the route answers 501. */
  readonly showback?: { readonly pools: PoolCatalog; readonly costs: PoolCostSource; readonly state?: PoolStateSource };
}

export interface AdminWiring {
  /** The model store's bucket; without one, the upload, register and invoice routes fail loudly. */
  readonly modelBucket?: string;
  readonly versionActivation: VersionActivation;
  /** The gateway's access log: CloudWatch Logs in the cloud, the emulator's file locally. */
  readonly accessLog: AccessLog;
  /** Pool costs for showback: Cost Explorer in the cloud, the copies it ran on the local host. */
  readonly poolCosts?: PoolCostSource;
  /** What the pools run now (GET /admin/pools): SageMaker's Describe calls in the cloud, the emulator locally. */
  readonly poolState?: PoolStateSource;
}

/** The admin function's adapters on DynamoDB and S3: the same for both hosts (the access log is the host's). */
export function adminDeps(clients: AwsClients, settings: FunctionSettings, wiring: AdminWiring): AdminDeps {
  const { dynamo } = clients;
  const { tables } = settings;
  let artifactStore: ArtifactStore | undefined;
  let invoiceStore: InvoiceStore | undefined;
  const usage = new DynamoUsageReader(dynamo, tables.usage);
  return {
    identity: new DynamoIdentityStore(dynamo, tables.identity),
    registry: new DynamoRegistry(dynamo, tables.registry),
    usage,
    reconciliation: {
      access: wiring.accessLog,
      records: usage,
      // One record per item: a repair may meet a record written by another process.
      usage: new DynamoUsageSink(dynamo, tables.usage, { retentionDays: settings.usageRetentionDays, maxRecordsPerPack: 1 }),
      modelRoutes: MODEL_ROUTES,
    },
    artifacts: () => {
      if (!wiring.modelBucket) throw new Error("no model bucket configured (MODEL_BUCKET)");
      artifactStore ??= new S3ArtifactStore(clients.s3(), wiring.modelBucket);
      return artifactStore;
    },
    invoices: () => {
      if (!wiring.modelBucket) throw new Error("no model bucket configured (MODEL_BUCKET)");
      invoiceStore ??= new S3InvoiceStore(clients.s3(), wiring.modelBucket);
      return invoiceStore;
    },
    invoiceCloseDelaySeconds: settings.invoiceCloseDelaySeconds,
    usageRetentionDays: settings.usageRetentionDays,
    versionActivation: wiring.versionActivation,
    platformName: settings.platformName,
    maxBodyBytes: settings.maxBodyBytes,
    currency: settings.currency,
    registryCacheTtlMs: settings.registryCacheTtlMs,
    maxKeysPerTenant: settings.maxKeysPerTenant,
    ...(wiring.poolCosts
      ? {
          showback: {
            pools: new DynamoPoolCatalog(dynamo, tables.registry),
            costs: wiring.poolCosts,
            ...(wiring.poolState ? { state: wiring.poolState } : {}),
          },
        }
      : {}),
  };
}

/** Part of the admin function's route map: only routes the table gives the admin function. */
export type AdminRoutes = Partial<RouteMap<"admin", Route>>;
