import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type AwsClients, createAwsClients, DYNAMODB_LOCAL_IDLE_SOCKET_MS } from "../../functions/aws/clients";
import { DynamoIdentityStore } from "../../functions/aws/identity-store";
import { seedRegistry } from "../../functions/aws/registry-seed";
import { DynamoRegistry } from "../../functions/aws/registry-store";
import { DynamoAggregateStore } from "../../functions/aws/usage-aggregates";
import { ROUTES } from "../../functions/contract/routes";
import { isLlmRuntime } from "../../functions/contract/runtimes";
import { endpointName, inferenceComponentName, poolEndpointName, variantName } from "../../functions/contract/sagemaker-names";
import type { VersionSeed } from "../../functions/contract/seed";
import type { FunctionSettings } from "../../functions/contract/settings";
import { createKey } from "../../functions/core/api-keys";
import { createTenant } from "../../functions/core/tenants";
import type { InvokeDeps } from "../../functions/invoke/create-invoke-handler";
import { isComponentVersion, type PlatformConfig } from "../shared/config-schema";
import { functionSettings, registrySeed } from "../shared/function-env";
import { loadPlatformConfig } from "../shared/load-config";
import { initialCopies } from "../shared/pool-schema";
import { ensureBucket, type UploadedArtifact, uploadArtifact } from "./bootstrap/artifacts";
import { generateAdminCredential, type LocalCredentials, readCredentials, writeCredentials } from "./bootstrap/credentials";
import { ensureTables } from "./bootstrap/tables";
import { CopyLog, LocalPoolCosts } from "./copy-log";
import { type LocalDeployer, startLocalDeployer } from "./deployer";
import { AccessLogFile, JsonLinesAccessLog } from "./gateway/access-log-file";
import { type Gateway, startGateway } from "./gateway/server";
import { buildLocalHandlers, openUsageJournal } from "./handlers";
import { type LambdaEmulator, type LocalFunction, startLambdaEmulator } from "./lambda-runtime/server";
import { LocalPoolState } from "./local-pool-state";
import { readOnnxSignature } from "./model-host";
import { type SageMakerRuntimeEmulator, startSageMakerRuntimeEmulator, type VariantTarget } from "./sagemaker-runtime";
import { ScaledComponent } from "./scaled-component";
import { type RunningDynamoDb, startDynamoDbLocal } from "./services/dynamodb-local";
import { assertPortFree } from "./services/free-port";
import { type RunningS3, S3RVER_CREDENTIALS, startS3Local } from "./services/s3-local";
import { startStreamPoller } from "./stream-poller";
import { notifyTableWrites, TableWrites } from "./table-writes";
import { versionHostStarter } from "./version-hosts";

export interface LocalPlatformOptions {
  /** Gateway port; 0 picks a free one. */
  readonly port: number;
  readonly dataDir: string;
  readonly configPath: string;
  readonly host?: string;
  /** Handler settings that differ from the config's (the e2e tests' short registry cache). */
  readonly settings?: Partial<Pick<FunctionSettings, "registryCacheTtlMs">>;
  /** EMF metric lines on stdout. @default false (no CloudWatch reads them here) */
  readonly emitMetrics?: boolean;
  /** Replaces parts of the invoke function's wiring: the benchmark's sink that records nothing. */
  readonly invokeOverrides?: Partial<InvokeDeps>;
  /**
   * Records usage through a journal on this machine's disk, shipped to the table off the
   * request path (./usage-journal.ts); `false`: each request writes its record to the table
   * before it is answered, as in the cloud (the benchmark compares the two). @default true
   */
  readonly usageJournal?: boolean;
  /**
   * Called once with the SDK clients every handler shares, before any is used: the benchmark
   * adds a middleware that sums DynamoDB's ConsumedCapacity (bench/capacity-meter.ts).
   */
  readonly instrumentClients?: (clients: AwsClients) => void;
  /**
   * Replaces every scale-to-zero component's `idleSeconds` (at least 60 in a config, which
   * suits the cloud's scaling, not a test that watches a model host go).
   */
  readonly componentIdleSeconds?: number;
  /**
   * The console's build folder (./console-build.ts), served at `/console` on the gateway's port.
   * @default none: no console
   */
  readonly consoleDir?: string;
}

export interface LocalPlatform {
  readonly url: string;
  readonly port: number;
  readonly config: PlatformConfig;
  readonly credentials: LocalCredentials;
  /** The demo key, only when this start created it (shown once). */
  readonly newDemoKey?: string;
  /** Endpoints of the local AWS stand-ins (for adapter tests and debugging). */
  readonly services: {
    readonly dynamodb: string;
    readonly s3: string;
    readonly sagemakerRuntime: string;
    readonly lambda: string;
    /**
     * Model host URL by `model/version` (the "container" behind each variant or component), as
     * started; a scale-to-zero component's host moves (see the emulator's component report).
     */
    readonly modelHosts: Readonly<Record<string, string>>;
  };
  stop(): Promise<void>;
}

const REGION = "us-east-1";
export const DEMO_TENANT = "demo";

type Stoppable = { stop(): Promise<void> } | { close(): Promise<void> };

/**
 * Starts the whole platform on this machine: DynamoDB Local, s3rver, one ONNX model host per
 * version, the SageMaker Runtime emulator, and the API Gateway emulator in front of handlers
 * built by the same factories Lambda's composition roots call (./handlers.ts), on SDK clients
 * pointed at the local services. Nothing here writes process.env.
 */
export async function startLocalPlatform(opts: LocalPlatformOptions): Promise<LocalPlatform> {
  const dataDir = resolve(opts.dataDir);
  const { config, localArtifacts } = await loadPlatformConfig(opts.configPath);
  if (opts.port !== 0) await assertPortFree(opts.port, opts.host);
  mkdirSync(dataDir, { recursive: true });
  const started: Stoppable[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await ("stop" in s ? s.stop() : s.close()).catch(() => undefined);
  };
  try {
    const dynamo: RunningDynamoDb = await startDynamoDbLocal(join(dataDir, "dynamodb"), {
      onRestart: (reason) => console.error(`modelgate: ${reason}`),
    });
    started.push(dynamo);
    const s3: RunningS3 = await startS3Local(join(dataDir, "s3"));
    started.push(s3);
    const sagemaker: SageMakerRuntimeEmulator = await startSageMakerRuntimeEmulator({ host: "127.0.0.1" });
    started.push(sagemaker);
    // Functions invoked through the Lambda API (shadow copies); filled once the handlers are imported.
    const functions: Record<string, LocalFunction> = {};
    const lambda: LambdaEmulator = await startLambdaEmulator({
      functions,
      onAsyncFailure: (name, err) => console.error(`async invocation of ${name} failed: ${(err as Error).message}`),
    });
    started.push(lambda);
    const bucket = `${config.name}-models`;
    const shadowFunction = `${config.name}-shadow`;

    const credentials = { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey };
    const common = { region: REGION, credentials };
    const clients = createAwsClients({
      dynamodb: { ...common, endpoint: dynamo.endpoint },
      dynamodbIdleSocketMs: DYNAMODB_LOCAL_IDLE_SOCKET_MS,
      // s3rver would store aws-chunked framing verbatim; checksums only where S3 requires them.
      s3: {
        ...common,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      },
      // The handlers' SageMaker calls go to the emulator in process (signed and parsed by the SDK
      // as over HTTP); its listener still serves the CLI, tests and anything else that calls it.
      sagemakerRuntime: { ...common, endpoint: sagemaker.url, requestHandler: sagemaker.inProcessHandler() },
      lambda: { ...common, endpoint: lambda.url },
    });
    opts.instrumentClients?.(clients);
    // The stream poller and the deployer sleep while their tables are idle and wake at this process's writes.
    const tableWrites = new TableWrites();
    notifyTableWrites(clients.dynamo, tableWrites);
    const settings: FunctionSettings = { ...functionSettings(config), ...opts.settings };
    const doc = clients.dynamo;
    const s3Client = clients.s3();
    // Table management and the stream's event source mapping are the host's job (CloudFormation's
    // and Lambda's in the cloud), on a client of their own.
    const hostDynamo = new DynamoDBClient({ ...common, endpoint: dynamo.endpoint });
    await ensureTables(hostDynamo, config.name);
    await ensureBucket(s3Client, bucket);

    // The copies components run, over time: the local host's pool costs for showback (a simulation).
    const copyLog = new CopyLog(join(dataDir, "copies.jsonl"));
    copyLog.hostStarted();
    const recordCopies = (component: string) => (copies: number) => {
      try {
        copyLog.copies(component, copies);
      } catch (err) {
        console.error(`components: could not record copies of ${component}: ${(err as Error).message}`);
      }
    };
    const uploaded = new Map<string, UploadedArtifact>();
    const signatures = new Map<string, Pick<VersionSeed, "inputs" | "outputs">>();
    const modelHosts: Record<string, string> = {};
    const endpointVariants = new Map<string, VariantTarget[]>();
    for (const [model, m] of Object.entries(config.models)) {
      const variants: VariantTarget[] = [];
      for (const v of m.versions) {
        const id = `${model}/${v.version}`;
        const file = localArtifacts.get(id);
        let onnxFile: string | undefined;
        if (file) {
          const artifact = await uploadArtifact(s3Client, bucket, model, v.version, file, v.sha256);
          uploaded.set(id, artifact);
          // Like SageMaker, an ONNX model host serves what it fetched from the model store.
          if (!v.localUrl && !isLlmRuntime(v.runtime)) {
            onnxFile = await fetchArtifact(s3Client, artifact.uri, join(dataDir, "model-cache", model, String(v.version)));
          }
        }
        const starter = versionHostStarter(model, v, { artifact: file, onnxFile });
        if (isComponentVersion(v)) {
          const componentName = inferenceComponentName(config.name, model, v.version);
          const component = new ScaledComponent({
            componentName,
            load: starter.start,
            minCopies: v.placement.copies.min,
            initialCopies: initialCopies(v.placement),
            idleMs: (opts.componentIdleSeconds ?? v.placement.idleSeconds) * 1000,
            ...(starter.protocol ? { protocol: starter.protocol } : {}),
            log: (message) => console.error(`components: ${message}`),
            onCopies: recordCopies(componentName),
          });
          started.push(component);
          await component.start();
          sagemaker.setComponent(poolEndpointName(config.name, v.placement.pool), component);
          const url = component.describe().url;
          if (url) modelHosts[id] = url;
          // A component that starts at zero copies has read no signature: read it from the file.
          const signature = component.signature ?? (onnxFile ? await readOnnxSignature(onnxFile) : undefined);
          if (signature) signatures.set(id, { inputs: signature.inputs, outputs: signature.outputs });
          continue;
        }
        const host = await starter.start();
        started.push(host);
        modelHosts[id] = host.url;
        if (host.signature) signatures.set(id, { inputs: host.signature.inputs, outputs: host.signature.outputs });
        variants.push({ variantName: variantName(v.version), url: host.url, ...(starter.protocol && { protocol: starter.protocol }) });
      }
      if (variants.length === 0) continue;
      endpointVariants.set(endpointName(config, model), variants);
      sagemaker.setEndpoint(endpointName(config, model), variants);
    }

    const seed = registrySeed(
      config,
      (model, version) => uploaded.get(`${model}/${version}`)?.uri ?? "",
      (model, version) => uploaded.get(`${model}/${version}`)?.sha256,
    );
    await seedRegistry(doc, settings.tables.registry, {
      ...seed,
      versions: seed.versions.map((v) => ({ ...v, ...signatures.get(`${v.model}/${v.version}`) })),
    });

    const { credentials: local, newDemoKey } = await ensureCredentials(doc, config, settings, dataDir);
    const deployer: LocalDeployer = startLocalDeployer({
      registry: new DynamoRegistry(doc, settings.tables.registry),
      s3: s3Client,
      cacheDir: join(dataDir, "model-cache"),
      endpoints: sagemaker,
      variants: endpointVariants,
      // Every configured version, components too (one at zero copies has no host to list).
      served: new Set(Object.entries(config.models).flatMap(([model, m]) => m.versions.map((v) => `${model}/${v.version}`))),
      registryWrites: { writes: tableWrites, table: settings.tables.registry },
      log: (message) => console.error(`deployer: ${message}`),
    });
    started.push(deployer);
    await deployer.reconcile();

    // The gateway's access log, reconciliation's record of every request: it logs, first, the
    // requests a killed predecessor left unfinished. Closed after the gateway (started runs in reverse).
    const logsDir = join(dataDir, "logs");
    const accessLog = new AccessLogFile(logsDir);
    started.push(accessLog);
    // Usage a killed predecessor journaled and did not ship reaches the table before anything is served.
    const usageJournal =
      opts.usageJournal === false ? undefined : await openUsageJournal(clients, settings, join(dataDir, "usage-journal.jsonl"));
    // Closed after the gateway (no request records any more), before DynamoDB Local: what has not
    // reached the table by then stays in the file for the next start.
    if (usageJournal) started.push({ stop: () => usageJournal.close() });
    const handlers = buildLocalHandlers({
      ...(usageJournal ? { usageJournal } : {}),
      accessLog: new JsonLinesAccessLog(logsDir),
      clients,
      settings,
      shadowFunctionName: shadowFunction,
      modelBucket: bucket,
      poolCosts: new LocalPoolCosts(copyLog, REGION),
      poolState: new LocalPoolState(() => sagemaker.components()),
      ...(opts.emitMetrics ? { emitMetrics: true } : {}),
      ...(opts.invokeOverrides ? { invokeOverrides: opts.invokeOverrides } : {}),
    });
    functions[shadowFunction] = handlers.shadow as LocalFunction;
    // Stopped after the gateway (no request holds a lease any more), before DynamoDB Local.
    started.push({ stop: () => handlers.returnLeases() });
    // Batch work left by a previous run (a crash included) goes on; stopped before the leases are returned.
    started.push({ stop: () => handlers.batchQueue.stop() });
    await handlers.batchQueue.recover(handlers.batchStore);
    const checkpoints = new DynamoAggregateStore(doc, settings.tables.usage);
    started.push(
      await startStreamPoller({
        dynamo: hostDynamo,
        streams: new DynamoDBStreamsClient({ ...common, endpoint: dynamo.endpoint }),
        tableName: settings.tables.usage,
        handler: handlers.aggregator,
        // Local tuning: half the cloud's window keeps asOf within a second of the last request;
        // a stream batch's aggregator writes (checkpoint, applied counts, aggregates) are shared by
        // its records, so a shorter window costs more write units per request at low traffic.
        batchingWindowMs: 500,
        writes: tableWrites,
        // No operator replays a discarded batch here, and a restarted DynamoDB Local takes longer
        // than the cloud's retries: retry until applied. Nothing in a batch can fail it for good
        // (invalid counts are skipped), so only an outage holds it up.
        retryAttempts: Number.POSITIVE_INFINITY,
        startAfter: (shardId) => checkpoints.resumeAt(shardId),
        onDiscard: (shardId, first, last, err) =>
          console.error(`aggregator: stream batch ${first}..${last} of ${shardId} discarded after retries: ${String(err)}`),
      }),
    );
    const gateway: Gateway = await startGateway({
      host: opts.host ?? "127.0.0.1",
      port: opts.port,
      routes: ROUTES,
      handlers: { invoke: handlers.invoke, llm: handlers.llm, usage: handlers.usage, admin: handlers.admin, batch: handlers.batch },
      authorizer: handlers.authorizer,
      authorizerCacheTtlSeconds: config.gateway.authorizerCacheTtlSeconds,
      admin: local.admin,
      rateLimitPerSecond: config.gateway.rateLimitPerSecond,
      burstLimit: config.gateway.burstLimit,
      accessLog,
      ...(opts.consoleDir ? { consoleDir: opts.consoleDir } : {}),
    });
    started.push(gateway);
    const finalCredentials = { ...local, apiUrl: gateway.url, s3: { endpoint: s3.endpoint, ...S3RVER_CREDENTIALS } };
    writeCredentials(dataDir, finalCredentials);
    return {
      url: gateway.url,
      port: gateway.port,
      config,
      credentials: finalCredentials,
      ...(newDemoKey ? { newDemoKey } : {}),
      services: { dynamodb: dynamo.endpoint, s3: s3.endpoint, sagemakerRuntime: sagemaker.url, lambda: lambda.url, modelHosts },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function fetchArtifact(s3: S3Client, uri: string, dir: string): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m?.[1] || !m[2]) throw new Error(`not an s3 uri: ${uri}`);
  const out = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  const bytes = await out.Body?.transformToByteArray();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, m[2].split("/").pop() ?? "model.onnx");
  writeFileSync(file, bytes ?? new Uint8Array());
  return file;
}

/**
 * First start: a demo tenant granted every configured model, its key, and a local admin
 * credential pair. Later starts reuse them from credentials.json.
 */
async function ensureCredentials(doc: DynamoDBDocumentClient, config: PlatformConfig, settings: FunctionSettings, dataDir: string) {
  const existing = readCredentials(dataDir);
  if (existing) return { credentials: existing, newDemoKey: undefined };
  const identity = new DynamoIdentityStore(doc, settings.tables.identity);
  if (!(await identity.getTenant(DEMO_TENANT))) {
    await createTenant(identity, { tenantId: DEMO_TENANT, name: "Demo tenant", models: Object.keys(config.models) });
  }
  const key = await createKey(identity, DEMO_TENANT, { name: "demo" });
  const credentials: LocalCredentials = {
    apiUrl: "",
    tenantId: DEMO_TENANT,
    apiKey: key.apiKey,
    admin: { ...generateAdminCredential(), region: REGION },
  };
  return { credentials, newDemoKey: key.apiKey };
}
