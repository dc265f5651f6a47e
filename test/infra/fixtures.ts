import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Environment } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { DataCaptureOptions } from "../../infra/aws/constructs/model-endpoint";
import { createPlatformApp, newPlatformApp } from "../../infra/aws/platform-app";
import type { PlatformStack } from "../../infra/aws/platform-stack";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A temp directory holding the given files (paths relative to it). */
export function artifactDir(files: Readonly<Record<string, string | Uint8Array>>): string {
  const dir = mkdtempSync(join(tmpdir(), "modelgate-infra-"));
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

export interface Synthesized {
  readonly stack: PlatformStack;
  readonly template: Template;
  /** The cloud assembly directory (bundled assets live here). */
  readonly assemblyDir: string;
  /** cdk-nag (and any other plugin) violations, warnings included; empty when clean. */
  readonly violations: ReadonlyArray<{ readonly ruleName: string; readonly paths: string[] }>;
}

/**
 * Synthesizes the platform the way `cdk synth` does (same factory, cdk-nag on, handlers really
 * bundled by esbuild unless `bundling: false`). Throws CDK's ValidationFailed (with the report) on an error finding.
 */
export function synthPlatform(options: {
  config: unknown;
  baseDir: string;
  env?: Environment;
  webAclArn?: string;
  dataCapture?: DataCaptureOptions;
  /**
   * Bundle the handlers with esbuild, as `cdk synth` does. Without it (CDK's
   * `aws:cdk:bundling-stacks` set to none) the template is the same but for the assets' hashes,
   * and a synthesis takes a second or two instead of most of a minute on a loaded machine: for
   * suites that read only the template. @default true
   */
  bundling?: boolean;
}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "modelgate-cdk-"));
  const { app, stack } = createPlatformApp({
    app: newPlatformApp({ outdir, ...(options.bundling === false ? { context: { "aws:cdk:bundling-stacks": [] } } : {}) }),
    config: options.config,
    baseDir: options.baseDir,
    projectRoot,
    ...(options.env ? { env: options.env } : {}),
    ...(options.webAclArn ? { webAclArn: options.webAclArn } : {}),
    ...(options.dataCapture ? { dataCapture: options.dataCapture } : {}),
  });
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>);
  const reportFile = join(assembly.directory, "validation-report.json");
  const violations: Array<{ ruleName: string; paths: string[] }> = [];
  if (existsSync(reportFile)) {
    const report = JSON.parse(readFileSync(reportFile, "utf8")) as {
      pluginReports?: Array<{ violations?: Array<{ ruleName: string; violatingConstructs?: Array<{ constructPath?: string }> }> }>;
    };
    for (const p of report.pluginReports ?? []) {
      for (const v of p.violations ?? []) {
        violations.push({ ruleName: v.ruleName, paths: (v.violatingConstructs ?? []).map((c) => c.constructPath ?? "?") });
      }
    }
  }
  return { stack, template, assemblyDir: assembly.directory, violations };
}

/** Logical id of the one resource of `type` whose properties contain `props` (fails otherwise). */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  if (found.length !== 1) throw new Error(`expected one ${type} matching, found ${found.length}`);
  return found[0] as string;
}
