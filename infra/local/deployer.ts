import { createHash } from "node:crypto";
import { createWriteStream, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as delay } from "node:timers/promises";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { x as extractTar } from "tar";
import { ConflictError } from "../../functions/core/errors";
import type { RegistryAdmin } from "../../functions/core/ports";
import type { ModelVersion } from "../../functions/core/registry";
import { startOnnxModelHost } from "./model-host";
import type { ComponentTarget, VariantTarget } from "./sagemaker-runtime";
import { ScaledComponent } from "./scaled-component";
import { quietPauseMs, type TableWrites } from "./table-writes";

/** What the deployer needs from the SageMaker Runtime emulator. */
export interface EndpointRegistry {
  setEndpoint(name: string, variants: readonly VariantTarget[]): void;
  setComponent(endpointName: string, component: ComponentTarget): void;
  removeComponent(endpointName: string, componentName: string): void;
}

export interface LocalDeployerOptions {
  readonly registry: RegistryAdmin;
  readonly s3: S3Client;
  readonly cacheDir: string;
  readonly endpoints: EndpointRegistry;
  /** Variants already served per endpoint (the config's versions, started by the platform). */
  readonly variants: Map<string, VariantTarget[]>;
  /** `model/version` ids already served. */
  readonly served: ReadonlySet<string>;
  /**
   * How often the registry is read for versions to deploy or retire. @default 2000: each pass
   * reads every model's partition, and at 500 ms the passes alone cost ~25 ms of the platform's
   * CPU and ~30 ms of DynamoDB Local's every second, idle or not (bench/README.md).
   */
  readonly intervalMs?: number;
  /**
   * This process's writes to the registry table. With them, passes that find nothing to do come
   * ever less often (doubling up to `idleIntervalMs`) and a write to the registry starts one at
   * once: an idle platform then reads the registry every 16 s instead of every 2. A version
   * waiting for its upload keeps the short interval. Without them, every `intervalMs` throughout.
   */
  readonly registryWrites?: { readonly writes: Pick<TableWrites, "pause">; readonly table: string };
  /** @default 16000 */
  readonly idleIntervalMs?: number;
  readonly log?: (message: string) => void;
}

export interface LocalDeployer {
  /** One pass over the registry (the interval runs these; tests may call it directly). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The local stand-in for `cdk deploy` adding a variant: it watches the registry, and for each
 * version no variant serves yet (a `registered` upload, or a `ready` one uploaded before a
 * restart) it fetches the artifact from the model store, checks its sha256, starts a model
 * host, adds the variant to the model's endpoint (or, for a version on a pool, its inference
 * component to the pool's endpoint) and marks the version `ready` — all without a restart. A
 * version that fails to load keeps `registered` with the reason recorded; a retired version's
 * host is stopped.
 */
export function startLocalDeployer(opts: LocalDeployerOptions): LocalDeployer {
  const hosts = new Map<string, { close(): Promise<void> }>();
  const failed = new Set<string>();
  const log = opts.log ?? (() => undefined);
  let running: Promise<void> | undefined;
  let stopped = false;

  /** Whether the last pass found anything to do, or a version still waiting for its upload. */
  let busy = false;

  async function deploy(v: ModelVersion): Promise<void> {
    const id = `${v.model}/${v.version}`;
    try {
      const file = await fetchVerified(opts.s3, v, join(opts.cacheDir, v.model, String(v.version)));
      const start = () => startOnnxModelHost({ modelPath: file, modelName: v.model, version: v.version });
      if (v.inferenceComponentName) {
        // The registry holds no placement (that is the config's, at the next deploy): one copy, kept loaded.
        const component = new ScaledComponent({ componentName: v.inferenceComponentName, load: start, minCopies: 1, idleMs: 0, log });
        await component.start();
        hosts.set(id, component);
        opts.endpoints.setComponent(v.endpointName, component);
        if (v.status === "registered") await opts.registry.setVersionStatus(v.model, v.version, "registered", "ready");
        log(`serving ${id} (inference component ${v.inferenceComponentName} on ${v.endpointName})`);
        return;
      }
      const host = await start();
      hosts.set(id, host);
      const variants = (opts.variants.get(v.endpointName) ?? []).filter((t) => t.variantName !== v.variantName);
      // Weight 0: like a SageMaker variant, reachable only by TargetVariant, which the router always sends.
      variants.push({ variantName: v.variantName, url: host.url, weight: 0 });
      opts.variants.set(v.endpointName, variants);
      opts.endpoints.setEndpoint(v.endpointName, variants);
      if (v.status === "registered") await opts.registry.setVersionStatus(v.model, v.version, "registered", "ready");
      log(`serving ${id} (${v.variantName} of ${v.endpointName})`);
    } catch (err) {
      // Registration claims the number before it copies the bytes in: give a fresh upload time to land.
      const justRegistered = v.status === "registered" && Date.now() - Date.parse(v.createdAt) < 120_000;
      if ((err as { name?: string }).name === "NoSuchKey" && justRegistered) {
        busy = true;
        return;
      }
      failed.add(id);
      const reason = `could not be served: ${(err as Error).message}`.slice(0, 500);
      log(`version ${id} ${reason}`);
      // A `ready` version nothing serves must not read as ready: back to `registered`, with the reason.
      await opts.registry.setVersionStatus(v.model, v.version, v.status, "registered", reason).catch(() => undefined);
    }
  }

  async function undeploy(id: string, v: ModelVersion): Promise<void> {
    const host = hosts.get(id);
    hosts.delete(id);
    if (v.inferenceComponentName) {
      opts.endpoints.removeComponent(v.endpointName, v.inferenceComponentName);
      await host?.close();
      log(`retired ${id}`);
      return;
    }
    const variants = (opts.variants.get(v.endpointName) ?? []).filter((t) => t.variantName !== v.variantName);
    opts.variants.set(v.endpointName, variants);
    if (variants.length > 0) opts.endpoints.setEndpoint(v.endpointName, variants);
    await host?.close();
    log(`retired ${id}`);
  }

  async function reconcile(): Promise<void> {
    for (const model of await opts.registry.listModels()) {
      const record = await opts.registry.getModel(model);
      for (const v of record?.versions.values() ?? []) {
        const id = `${v.model}/${v.version}`;
        if (stopped) return;
        if (v.status === "retired") {
          if (hosts.has(id)) {
            busy = true;
            await undeploy(id, v);
          }
        } else if (!opts.served.has(id) && !hosts.has(id) && !failed.has(id)) {
          busy = true;
          await deploy(v);
        }
      }
    }
  }

  const tick = () => {
    running ??= (async () => {
      busy = false;
      await reconcile();
    })()
      .catch((err: unknown) => {
        if (!(err instanceof ConflictError)) log(`deployer pass failed: ${(err as Error).message}`);
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const intervalMs = opts.intervalMs ?? 2_000;
  const stop = new AbortController();
  const pause = (ms: number) =>
    opts.registryWrites
      ? opts.registryWrites.writes.pause(opts.registryWrites.table, ms, stop.signal)
      : delay(ms, undefined, { signal: stop.signal, ref: false }).catch(() => undefined);
  const loop = (async () => {
    /** Passes in a row that found nothing to do. */
    let quiet = 0;
    while (!stopped) {
      await pause(opts.registryWrites ? quietPauseMs(intervalMs, opts.idleIntervalMs ?? 16_000, quiet + 1) : intervalMs);
      if (stopped) return;
      await tick();
      quiet = busy ? 0 : quiet + 1;
    }
  })();
  return {
    reconcile: tick,
    async stop() {
      stopped = true;
      stop.abort();
      await loop;
      await running;
      for (const h of hosts.values()) await h.close().catch(() => undefined);
      hosts.clear();
    },
  };
}

/**
 * Downloads a version's artifact, verifies its sha256 against the registry's (a version
 * without one is refused: its bytes cannot be told from any others), and returns the ONNX
 * file to serve. A mismatching download is deleted, never served.
 */
async function fetchVerified(s3: S3Client, v: ModelVersion, dir: string): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(v.artifactUri);
  if (!m?.[1] || !m[2]) throw new Error(`artifact ${v.artifactUri} is not in the model store`);
  if (!v.sha256) throw new Error("the registry holds no sha256 for its artifact: unverifiable bytes are not served");
  const fileName = m[2].slice(m[2].lastIndexOf("/") + 1);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, fileName);
  const out = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  const hash = createHash("sha256");
  const body = out.Body as Readable;
  body.on("data", (c: Buffer) => hash.update(c));
  await pipeline(body, createWriteStream(file));
  const sha256 = hash.digest("hex");
  if (sha256 !== v.sha256) {
    rmSync(file, { force: true });
    throw new Error(`artifact sha256 is ${sha256}, the registry says ${v.sha256}`);
  }
  if (!fileName.endsWith(".tar.gz")) return file;
  const unpacked = join(dir, "unpacked");
  mkdirSync(unpacked, { recursive: true });
  await extractTar({ file, cwd: unpacked, strict: true });
  const onnx = findOnnx(unpacked);
  if (!onnx) throw new Error("the packed model holds no .onnx file");
  return onnx;
}

function findOnnx(dir: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith(".onnx")) return path;
    if (entry.isDirectory()) {
      const inner = findOnnx(path);
      if (inner) return inner;
    }
  }
  return undefined;
}
