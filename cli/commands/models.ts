import { createReadStream } from "node:fs";
import { Upload } from "@aws-sdk/lib-storage";
import { type Command, Option } from "commander";
import { prepareArtifact } from "../artifact";
import { adminCall, type GlobalOptions, resolveTarget, type Target } from "../context";
import { CliError, EXIT } from "../errors";
import { printFields, printJson, printTable, shortTime } from "../output";
import { versionArgument } from "../version-argument";
import { describeTarget } from "./aliases";
import { ProgressBar } from "./progress";

interface TensorOut {
  name: string;
  datatype: string;
  shape: number[];
}

export interface VersionOut {
  model: string;
  version: number;
  runtime: string;
  status: string;
  statusReason?: string;
  sha256?: string;
  size?: number;
  createdAt: string;
  artifactUri: string;
  endpointName: string;
  variantName: string;
  inferenceComponentName?: string;
  instanceType?: string;
  inputs?: TensorOut[];
  outputs?: TensorOut[];
}

interface ModelSummary {
  model: string;
  description?: string;
  defaultAlias?: string;
  versions: number;
  ready: number;
  latest?: number;
  aliases: string[];
}

interface ModelOut {
  model: string;
  description?: string;
  defaultAlias: string;
  versions: VersionOut[];
  aliases: Array<{ alias: string; revision: number; targets: Array<{ version: number; weight: number }> }>;
}

const enc = encodeURIComponent;
const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

const signature = (ts: TensorOut[] | undefined) => ts?.map((t) => `${t.name}:${t.datatype}[${t.shape.join(",")}]`).join(" ");
const humanSize = (n: number | undefined) =>
  n === undefined ? undefined : n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;

function printVersions(versions: readonly VersionOut[]): void {
  printTable(
    ["VERSION", "STATUS", "RUNTIME", "SIZE", "SHA256", "CREATED", "INPUTS", "OUTPUTS"],
    versions.map((v) => [
      String(v.version),
      v.statusReason ? `${v.status} (${v.statusReason})` : v.status,
      v.runtime,
      humanSize(v.size),
      v.sha256?.slice(0, 12),
      shortTime(v.createdAt),
      signature(v.inputs),
      signature(v.outputs),
    ]),
  );
}

/** Polls a registered version until the host serves it (local platform), or gives up. */
async function waitReady(t: Target, model: string, version: number, timeoutMs: number): Promise<VersionOut> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await adminCall<VersionOut>(t, "GET", `/admin/models/${enc(model)}/versions/${version}`);
    if (v.status === "ready") return v;
    if (v.statusReason) throw new CliError(`version ${version} was registered but ${v.statusReason}`, EXIT.api);
    if (Date.now() > deadline) throw new CliError(`version ${version} is registered but not ready after ${timeoutMs / 1000} s`, EXIT.api);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function deployInstructions(v: VersionOut): string {
  const fields = `version: ${v.version}, runtime: "${v.runtime}", artifact: "${v.artifactUri}", sha256: "${v.sha256}"`;
  // A model on a pool gets one more component there: its earlier versions' placement says where and how big.
  const served = v.inferenceComponentName
    ? {
        entry: `  { ${fields}, placement: { /* the pool and sizes of its earlier versions */ } },`,
        adds: `inference component ${v.inferenceComponentName} on endpoint ${v.endpointName}`,
      }
    : {
        entry: `  { ${fields}${v.instanceType ? `, instanceType: "${v.instanceType}"` : ""} },`,
        adds: `variant ${v.variantName} to endpoint ${v.endpointName}`,
      };
  return [
    `version ${v.version} of '${v.model}' is registered. To serve it in the cloud, add to models.${v.model}.versions in your config:`,
    "",
    served.entry,
    "",
    "then run:  npx cdk deploy",
    `(the deploy adds ${served.adds} and marks the version ready; then move an alias to it)`,
  ].join("\n");
}

export function registerModels(program: Command): void {
  const models = program.command("models").description("models and their versions: list, show, upload a new version");
  models
    .command("list")
    .description("every model with its version count and aliases")
    .action(async (_o: unknown, cmd: Command) => {
      const out = await adminCall<{ models: ModelSummary[] }>(resolveTarget(g(cmd)), "GET", "/admin/models");
      if (g(cmd).json) return printJson(out);
      printTable(
        ["MODEL", "VERSIONS", "READY", "LATEST", "DEFAULT", "ALIASES", "DESCRIPTION"],
        out.models.map((m) => [
          m.model,
          String(m.versions),
          String(m.ready),
          m.latest !== undefined ? String(m.latest) : undefined,
          m.defaultAlias,
          m.aliases.join(" "),
          m.description,
        ]),
      );
    });
  models
    .command("show <model>")
    .description("a model's versions (status, sha256, signature) and aliases")
    .action(async (model: string, _o: unknown, cmd: Command) => {
      const out = await adminCall<ModelOut>(resolveTarget(g(cmd)), "GET", `/admin/models/${enc(model)}`);
      if (g(cmd).json) return printJson(out);
      printFields([
        ["model", out.model],
        ["description", out.description],
        ["default alias", out.defaultAlias],
      ]);
      process.stdout.write("\n");
      printVersions(out.versions);
      process.stdout.write("\n");
      printTable(
        ["ALIAS", "REVISION", "TARGET"],
        out.aliases.map((a) => [a.alias, String(a.revision), describeTarget(a)]),
      );
    });
  models
    .command("upload <model> <path>")
    .description("upload a model directory, .onnx or model.tar.gz as the model's next version (multipart, sha256-checked)")
    .addOption(new Option("--runtime <runtime>", "serving runtime").choices(["onnx", "tensorrt", "tgi", "lmi", "custom"]).default("onnx"))
    .option("--version <n>", "version number (default: one past the highest); an existing one is refused")
    .option("--wait <seconds>", "on a platform that serves uploads itself, wait this long for the version to be ready", "120")
    .action(async (model: string, path: string, o: { runtime: string; version?: string; wait: string }, cmd: Command) => {
      if (o.version !== undefined) versionArgument(o.version, "--version");
      const t = resolveTarget(g(cmd));
      const artifact = await prepareArtifact(path, o.runtime);
      try {
        const ticket = await adminCall<{ bucket: string; key: string }>(t, "POST", `/admin/models/${enc(model)}/uploads`, {
          fileName: artifact.fileName,
        });
        const bar = new ProgressBar(`uploading ${artifact.fileName}`, artifact.size);
        const upload = new Upload({
          client: t.s3(),
          params: { Bucket: ticket.bucket, Key: ticket.key, Body: createReadStream(artifact.file), Metadata: { sha256: artifact.sha256 } },
          partSize: 8 * 1024 * 1024,
          queueSize: 4,
          leavePartsOnError: false,
        });
        upload.on("httpUploadProgress", (p) => bar.update(p.loaded ?? 0));
        await upload.done();
        bar.done();
        const registered = await adminCall<VersionOut & { activation: string }>(t, "POST", `/admin/models/${enc(model)}/versions`, {
          upload: ticket.key,
          sha256: artifact.sha256,
          size: artifact.size,
          runtime: o.runtime,
          ...(o.version !== undefined ? { version: Number(o.version) } : {}),
          ...(artifact.inputs ? { inputs: artifact.inputs, outputs: artifact.outputs } : {}),
        });
        const v =
          registered.activation === "automatic"
            ? await waitReady(t, model, registered.version, Number(o.wait) * 1000)
            : (process.stderr.write(`${deployInstructions(registered)}\n`), registered);
        if (g(cmd).json) return printJson({ model, version: v.version, sha256: v.sha256, size: v.size, status: v.status });
        printFields([
          ["model", model],
          ["version", String(v.version)],
          ["status", v.status],
          ["sha256", v.sha256],
          ["size", humanSize(v.size)],
          ["artifact", v.artifactUri],
          ["inputs", signature(v.inputs)],
          ["outputs", signature(v.outputs)],
        ]);
      } finally {
        artifact.cleanup();
      }
    });

  const versions = program.command("versions").description("a model's immutable versions");
  versions
    .command("list <model>")
    .description("versions with status (registered → ready → retired), size, sha256 and signature")
    .action(async (model: string, _o: unknown, cmd: Command) => {
      const out = await adminCall<{ versions: VersionOut[] }>(resolveTarget(g(cmd)), "GET", `/admin/models/${enc(model)}/versions`);
      if (g(cmd).json) return printJson(out);
      printVersions(out.versions);
    });
  versions
    .command("retire <model> <version>")
    .description("stop serving a version; refused while an alias still routes to it")
    .action(async (model: string, version: string, _o: unknown, cmd: Command) => {
      const v = await adminCall<VersionOut>(resolveTarget(g(cmd)), "POST", `/admin/models/${enc(model)}/versions/${enc(version)}/retire`);
      if (g(cmd).json) return printJson(v);
      process.stdout.write(`version ${v.version} of '${v.model}' is ${v.status}\n`);
    });
}
