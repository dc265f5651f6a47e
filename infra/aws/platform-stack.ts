import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import type * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import type { HandlerName } from "../../functions/contract/routes";
import { endpointName, inferenceComponentName, poolEndpointName } from "../../functions/contract/sagemaker-names";
import { FUNCTION_ENV } from "../../functions/contract/settings";
import { ConfigError } from "../shared/config";
import { huggingFaceModelId, isComponentVersion, isVariantVersion, type PlatformConfig } from "../shared/config-schema";
import { functionEnvironment, registrySeed } from "../shared/function-env";
import { cloudConfig } from "./cloud-config";
import { BatchQueue } from "./constructs/batch-queue";
import { ConsoleSite } from "./constructs/console-site";
import { ControlTables } from "./constructs/control-tables";
import { GatewayApi } from "./constructs/gateway-api";
import { ModelComponents } from "./constructs/inference-component";
import { InstancePool } from "./constructs/instance-pool";
import { type DataCaptureOptions, type IInvocationTarget, ModelEndpoint } from "./constructs/model-endpoint";
import { ModelStore, type StoredArtifact } from "./constructs/model-store";
import { Observability } from "./constructs/observability";
import { PlatformFunction } from "./constructs/platform-function";
import { RegistrySeeder } from "./constructs/registry-seeder";
import { UsageAggregator } from "./constructs/usage-aggregator";
import { addPlatformNagSuppressions } from "./nag-suppressions";

export interface PlatformStackProps extends StackProps {
  /** The validated platform config (parsePlatformConfig). */
  readonly config: PlatformConfig;
  /** Absolute path of each local artifact by `model/version` (resolveArtifacts). */
  readonly localArtifacts: ReadonlyMap<string, string>;
  /** Repository root, where `functions/` and `package-lock.json` are. */
  readonly projectRoot: string;
  /** WAFv2 web ACL (REGIONAL) for the API stage. @default none */
  readonly webAclArn?: string;
  /** Capture model requests/responses to the store. @default off */
  readonly dataCapture?: DataCaptureOptions;
  /** SNS topic for alarms. @default none */
  readonly alarmTopic?: sns.ITopic;
  /** Powertools log level of the handlers. @default "INFO" */
  readonly logLevel?: string;
  /** Retention of the handlers' logs. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Concurrent batch worker invocations (each runs one chunk, a few lines at a time per model):
   * the most capacity batch work takes from the models, whatever the backlog. @default 2
   */
  readonly batchWorkerConcurrency?: number;
}

/**
 * The whole platform in one stack: model store, control tables, a SageMaker endpoint per shared
 * pool with an inference component per version placed on it (and, for versions without a
 * placement, an endpoint per model with a variant per version), the handlers, the registry seed,
 * the REST API, dashboard and alarms.
 */
export class PlatformStack extends Stack {
  readonly store: ModelStore;
  readonly tables: ControlTables;
  /** Per model with versions in the variant layout: its endpoint. */
  readonly endpoints: ReadonlyMap<string, ModelEndpoint>;
  /** Per pool a deployed version is placed on: its endpoint. */
  readonly pools: ReadonlyMap<string, InstancePool>;
  /** Per model with placed versions: their inference components. */
  readonly components: ReadonlyMap<string, ModelComponents>;
  readonly functions: Readonly<Record<HandlerName | "authorizer" | "shadow" | "aggregator" | "batchWorker", PlatformFunction>>;
  readonly aggregator: UsageAggregator;
  readonly batchQueue: BatchQueue;
  readonly seeder: RegistrySeeder;
  readonly gateway: GatewayApi;
  readonly console: ConsoleSite;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { projectRoot } = props;
    // Local-only versions (and models with nothing else) are not deployed; see cloudConfig.
    const config = cloudConfig(props.config);

    this.store = new ModelStore(this, "ModelStore");
    this.tables = new ControlTables(this, "Tables", { platformName: config.name });

    const pools = new Map<string, InstancePool>();
    for (const [pool, p] of Object.entries(config.pools)) {
      const componentNames = Object.entries(config.models).flatMap(([model, m]) =>
        m.versions.filter((v) => v.placement?.pool === pool).map((v) => inferenceComponentName(config.name, model, v.version)),
      );
      pools.set(
        pool,
        new InstancePool(this, `Pool-${pool}`, {
          endpointName: poolEndpointName(config.name, pool),
          pool,
          config: p,
          store: this.store,
          componentNames,
        }),
      );
    }
    this.pools = pools;

    const uploaded = new Map<string, StoredArtifact>();
    const endpoints = new Map<string, ModelEndpoint>();
    const components = new Map<string, ModelComponents>();
    for (const [model, m] of Object.entries(config.models)) {
      const byVersion = new Map<number, StoredArtifact>();
      m.versions.forEach((v, i) => {
        const file = props.localArtifacts.get(`${model}/${v.version}`);
        if (!file) {
          // s3:// and hf:// artifacts are read by SageMaker or the container, not uploaded.
          if (!v.artifact.startsWith("s3://") && huggingFaceModelId(v.artifact) === undefined) {
            throw new ConfigError(`models.${model}.versions.${i}.artifact: local artifact was not resolved`, [
              `models.${model}.versions.${i}.artifact`,
            ]);
          }
          return;
        }
        const stored = this.store.addLocalArtifact({ model, version: v.version, runtime: v.runtime, file });
        if (v.sha256 && v.sha256 !== stored.sha256) {
          const field = `models.${model}.versions.${i}.sha256`;
          throw new ConfigError(`invalid platform config:\n  - ${field}: expected ${v.sha256}, file ${file} has ${stored.sha256}`, [field]);
        }
        byVersion.set(v.version, stored);
        uploaded.set(`${model}/${v.version}`, stored);
      });
      if (m.versions.some(isVariantVersion)) {
        endpoints.set(
          model,
          new ModelEndpoint(this, `Endpoint-${model}`, {
            endpointName: endpointName(config, model),
            model,
            config: m,
            store: this.store,
            artifacts: byVersion,
            ...(props.dataCapture ? { dataCapture: props.dataCapture } : {}),
          }),
        );
      }
      if (m.versions.some(isComponentVersion)) {
        components.set(
          model,
          new ModelComponents(this, `Components-${model}`, {
            platformName: config.name,
            model,
            config: m,
            pools,
            store: this.store,
            artifacts: byVersion,
          }),
        );
      }
    }
    this.endpoints = endpoints;
    this.components = components;

    const environment = functionEnvironment(config);
    const fn = (handlerName: string, description: string, memorySize: number, timeout: Duration, reservedConcurrentExecutions?: number) =>
      new PlatformFunction(this, `Fn-${handlerName}`, {
        projectRoot,
        handlerName,
        description,
        environment,
        memorySize,
        timeout,
        ...(reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions } : {}),
        ...(props.logLevel ? { logLevel: props.logLevel } : {}),
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      });
    // The invoke function outlives its model call by a margin, and API Gateway's 29 s cap.
    const invokeTimeout = Duration.seconds(Math.min(29, Math.ceil(config.gateway.invokeTimeoutMs / 1000) + 3));
    this.functions = {
      authorizer: fn("authorizer", "REQUEST authorizer: tenant API keys", 256, Duration.seconds(5)),
      invoke: fn("invoke", "Model routes: resolve alias, invoke SageMaker, meter", 1024, invokeTimeout),
      // Streams a generation for up to API Gateway's 15-minute streaming limit. Billed for the whole
      // stream while it mostly waits on the engine: 512 MB (a third of a vCPU) is what its measured
      // CPU per request and per chunk and its ~65 MB footprint need (bench/README.md).
      llm: fn("llm", "OpenAI routes: chat, completions and embeddings, streamed, token-metered", 512, Duration.minutes(15)),
      usage: fn("usage", "Tenant usage and invoice reads", 512, Duration.seconds(10)),
      // Reads an uploaded artifact back to verify its sha256 before it becomes a version.
      admin: fn("admin", "Admin API: tenants, keys, models, versions, aliases, usage, invoices", 1024, Duration.seconds(300)),
      shadow: fn("shadow", "Shadow copies: call an alias's shadow variant, meter as shadow", 512, invokeTimeout),
      aggregator: fn("aggregator", "Usage aggregates from the usage table's stream, applied exactly once", 512, Duration.seconds(60)),
      // Files and batches: metadata, S3 objects and messages; reads a multipart upload of up to 10 MB.
      batch: fn("batch", "OpenAI Batch API: files and batches of the calling tenant", 1024, Duration.seconds(29)),
      // One chunk of lines per invocation; its reserved concurrency caps what batch work takes from the models.
      batchWorker: fn(
        "batch-worker",
        "Batch lines through the inference path, metered as batch",
        1024,
        BATCH_WORKER_TIMEOUT,
        props.batchWorkerConcurrency ?? 2,
      ),
    };
    this.batchQueue = new BatchQueue(this, "BatchQueue", {
      worker: this.functions.batchWorker.function,
      workerTimeout: BATCH_WORKER_TIMEOUT,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });
    for (const f of [this.functions.batch, this.functions.batchWorker]) {
      f.function.addEnvironment(FUNCTION_ENV.modelBucket, this.store.bucket.bucketName);
      f.function.addEnvironment(FUNCTION_ENV.batchQueueUrl, this.batchQueue.queue.queueUrl);
    }
    this.aggregator = new UsageAggregator(this, "UsageAggregator", {
      tables: this.tables,
      function: this.functions.aggregator.function,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });
    const { admin, shadow } = this.functions;
    // Sampled shadow copies leave the request path as asynchronous invocations (see LambdaShadowDispatcher).
    for (const modelRoutes of [this.functions.invoke, this.functions.llm]) {
      modelRoutes.function.addEnvironment(FUNCTION_ENV.shadowFunctionName, shadow.function.functionName);
    }
    // Uploads land under uploads/ (the operator's own credentials); the admin function verifies
    // and copies them to models/<model>/<version>/. Serving stays deploy-driven (functions/admin/handler.ts).
    admin.function.addEnvironment(FUNCTION_ENV.modelBucket, this.store.bucket.bucketName);
    // Issued invoices live in the store too (invoices/<tenant>/<month>/): the tenant routes read them.
    this.functions.usage.function.addEnvironment(FUNCTION_ENV.modelBucket, this.store.bucket.bucketName);
    this.grantLeastPrivilege();

    this.seeder = new RegistrySeeder(this, "RegistrySeed", {
      projectRoot,
      tables: this.tables,
      environment,
      seed: registrySeed(
        config,
        (model, version) => uploaded.get(`${model}/${version}`)?.uri ?? artifactOf(config, model, version),
        (model, version) => uploaded.get(`${model}/${version}`)?.sha256,
      ),
    });

    // Before the API: an explicit admin principal list must name the console's admin role.
    this.console = new ConsoleSite(this, "Console", { platformName: config.name, accessLogsBucket: this.store.accessLogsBucket });
    this.gateway = new GatewayApi(this, "Gateway", {
      platformName: config.name,
      handlers: {
        invoke: this.functions.invoke.function,
        llm: this.functions.llm.function,
        usage: this.functions.usage.function,
        admin: this.functions.admin.function,
        batch: this.functions.batch.function,
      },
      authorizer: this.functions.authorizer.function,
      gateway: config.gateway,
      ...(props.webAclArn ? { webAclArn: props.webAclArn } : {}),
      rateLimit: config.waf.enabled && { ratePerIpPer5Minutes: config.waf.ratePerIpPer5Minutes },
      ...(config.admin.principals ? { adminPrincipals: [...config.admin.principals, this.console.adminRole.roleArn] } : {}),
      // The console's pages call the API from CloudFront's origin.
      corsOrigin: this.console.origin,
    });
    for (const f of [admin, this.functions.usage]) f.function.addEnvironment(FUNCTION_ENV.consoleOrigin, this.console.origin);
    this.console.grantAdminApi(this.gateway.api);
    // The console's files and its config.json (the API's URL, the Cognito ids) into its bucket.
    this.console.deploy(this.gateway.api);

    // Reconciliation (POST /admin/usage/reconcile) queries the stage's access log with Logs Insights.
    admin.function.addEnvironment(FUNCTION_ENV.accessLogGroup, this.gateway.accessLogs.logGroupName);
    this.gateway.grantAccessLogQuery(admin.function);

    this.observability = new Observability(this, "Observability", {
      dashboardName: config.name,
      api: this.gateway.api,
      endpoints: [...endpoints.values()],
      pools: [...pools.values()].map((p) => ({
        endpointName: p.endpointName,
        components: [...components.values()].flatMap((c) => c.components.filter((ic) => ic.poolName === p.poolName)),
      })),
      functions: Object.fromEntries(Object.entries(this.functions).map(([k, f]) => [k, f.function])),
      latencyThresholdMs: config.gateway.invokeTimeoutMs,
      // The namespace the handlers' POWERTOOLS_METRICS_NAMESPACE names (functionEnvironment).
      metricsNamespace: config.name,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });

    new CfnOutput(this, "ApiUrl", { value: this.gateway.api.url, description: "Base URL of the API" });
    new CfnOutput(this, "ModelBucketName", { value: this.store.bucket.bucketName });
    new CfnOutput(this, "IdentityTableName", { value: this.tables.identity.tableName });
    new CfnOutput(this, "RegistryTableName", { value: this.tables.registry.tableName });
    new CfnOutput(this, "UsageTableName", { value: this.tables.usage.tableName });
    new CfnOutput(this, "DashboardName", { value: config.name });
    new CfnOutput(this, "ConsoleUrl", {
      value: this.console.url,
      description: "The console (sign in as a member of the user pool's admins group)",
    });
    new CfnOutput(this, "ConsoleUserPoolId", { value: this.console.userPool.userPoolId });

    addPlatformNagSuppressions(this);
  }

  /**
   * What the model routes invoke: each model endpoint (variant layout), and each inference
   * component with its pool's endpoint.
   */
  private invocationTargets(): IInvocationTarget[] {
    return [...this.endpoints.values(), ...[...this.components.values()].flatMap((c) => c.components)];
  }

  /**
   * Each handler gets what its adapters send (functions/<name>/deps.ts → functions/aws/*), from
   * the constructs that own the tables, the store, the endpoints and the shadow function; the
   * grants name the commands. test/infra/iam-least-privilege.test.ts holds each role to its list.
   */
  private grantLeastPrivilege(): void {
    const { tables, store } = this;
    const { authorizer, invoke, llm, usage, admin, shadow, batch, batchWorker } = this.functions;
    const targets = this.invocationTargets();
    // The account's default event bus, where budget alerts go and operators route them from.
    const defaultBus = events.EventBus.fromEventBusName(this, "DefaultBus", "default");

    tables.grantKeyLookup(authorizer.function);

    // The KServe/raw routes and the OpenAI routes take the same path to the tables (invokeDeps);
    // no identity table: the principal arrives in the authorizer context.
    for (const f of [invoke, llm]) {
      tables.grantRegistryRead(f.function);
      tables.grantUsageRecordWrite(f.function);
      tables.grantLimitCells(f.function);
      // Reclaiming a dead holder's quota lease counts the usage records carrying its id.
      tables.grantUsageRecordRead(f.function);
      shadow.grantInvoke(f.function);
      for (const t of targets) t.grantInvoke(f.function);
      // Budget thresholds are announced on the default bus (EventBridgeBudgetAlerts).
      defaultBus.grantPutEventsTo(f.function);
    }
    // Only the OpenAI routes stream a generation (runStreamingInference).
    for (const t of targets) t.grantInvokeWithResponseStream(llm.function);

    // A shadow copy: one model call, one record (the alias's shadow version; no limits).
    for (const t of targets) t.grantInvoke(shadow.function);
    tables.grantUsageRecordWrite(shadow.function);

    // Usage reports, and the limits: their status and the per-tenant rate of usage reads.
    tables.grantUsageRead(usage.function);
    tables.grantLimitCells(usage.function);
    // A tenant's issued invoices (GET /v1/invoices): S3InvoiceStore reads and lists.
    store.grantInvoiceRead(usage.function);

    tables.grantIdentityAdmin(admin.function);
    tables.grantRegistryAdmin(admin.function);
    tables.grantUsageRead(admin.function);
    // Reconciliation repairs write the missing records (aggregates follow from the stream).
    tables.grantUsageRecordWrite(admin.function);
    store.grantUploadIntake(admin.function);
    store.grantArtifactWrite(admin.function);
    // Showback (GET /admin/showback) reads the pools' costs by their cost-allocation tag.
    if (this.pools.size > 0) InstancePool.grantCostRead(admin.function);
    // The Pools page (GET /admin/pools) reads what each pool runs now.
    for (const pool of this.pools.values()) if (pool.componentNames.length > 0) pool.grantDescribe(admin.function);
    // Invoices: previews read nothing here; issuing reads the tenant's issued ones and writes the new one.
    store.grantInvoiceRead(admin.function);
    store.grantInvoiceWrite(admin.function);

    // The Batch API: its items in the usage table, the files under batch/, work onto the queue.
    tables.grantBatchApi(batch.function);
    store.grantBatchFiles(batch.function);
    this.batchQueue.grantSend(batch.function);
    // The worker: the model routes' path to the tables and models (invokeDeps, without shadow copies),
    // the batch items with the lines, the files, and its own follow-up messages (chunks after validation).
    tables.grantRegistryRead(batchWorker.function);
    tables.grantUsageRecordWrite(batchWorker.function);
    tables.grantUsageRecordRead(batchWorker.function);
    tables.grantLimitCells(batchWorker.function);
    for (const t of targets) t.grantInvoke(batchWorker.function);
    defaultBus.grantPutEventsTo(batchWorker.function);
    tables.grantBatchWork(batchWorker.function);
    store.grantBatchFiles(batchWorker.function);
    this.batchQueue.grantSend(batchWorker.function);
  }
}

/** A chunk is 20 lines a few at a time; 15 minutes is Lambda's most and leaves slow models room. */
const BATCH_WORKER_TIMEOUT = Duration.minutes(15);

function artifactOf(config: PlatformConfig, model: string, version: number): string {
  return config.models[model]?.versions.find((v) => v.version === version)?.artifact ?? "";
}
