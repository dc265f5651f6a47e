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

/** One action on one resource, as a policy statement grants it (with the statement's condition, if any). */
export interface Permission {
  readonly action: string;
  /** The resource as it stands in the template: an ARN string, `*`, or an intrinsic (`Fn::GetAtt`, `Fn::Join`). */
  readonly resource: unknown;
  readonly condition?: unknown;
}

type PolicyDocument = { Statement?: Array<Record<string, unknown>> };
const listOf = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * What a policy document allows, one action on one resource at a time: the same whatever the
 * statements' shape (`@aws-cdk/aws-iam:minimizePolicies` merges and sorts them). Throws on a
 * statement that is not a plain Allow of Action on Resource (a Deny or NotAction would need
 * more than this to read).
 */
export function permissionsIn(document: PolicyDocument | undefined): Permission[] {
  return listOf(document?.Statement).flatMap((s) => {
    if (s.Effect !== "Allow" || s.NotAction !== undefined || s.NotResource !== undefined || s.Principal !== undefined) {
      throw new Error(`not a plain Allow statement: ${JSON.stringify(s)}`);
    }
    return listOf(s.Action as string | string[]).flatMap((action) =>
      listOf(s.Resource).map((resource) => ({ action, resource, ...(s.Condition === undefined ? {} : { condition: s.Condition }) })),
    );
  });
}

/**
 * Everything a role is allowed: the statements of every AWS::IAM::Policy and
 * AWS::IAM::ManagedPolicy attached to it and of its own inline policies. AWS managed policies
 * (`ManagedPolicyArns`) cannot be read here: they are returned apart, for the caller to refuse.
 */
export function permissionsOfRole(template: Template, roleLogicalId: string): { permissions: Permission[]; managedPolicyArns: unknown[] } {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  const role = resources[roleLogicalId];
  if (role?.Type !== "AWS::IAM::Role") throw new Error(`${roleLogicalId} is not an AWS::IAM::Role`);
  const attached = Object.values(resources).filter(
    (r) =>
      (r.Type === "AWS::IAM::Policy" || r.Type === "AWS::IAM::ManagedPolicy") &&
      listOf(r.Properties?.Roles as unknown[]).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleLogicalId })),
  );
  const inline = listOf(role.Properties?.Policies as Array<{ PolicyDocument: PolicyDocument }>).map((p) => p.PolicyDocument);
  return {
    permissions: [...attached.map((p) => p.Properties?.PolicyDocument as PolicyDocument), ...inline].flatMap(permissionsIn),
    managedPolicyArns: listOf(role.Properties?.ManagedPolicyArns as unknown[]),
  };
}

/** The items sorted by their JSON: for comparing lists whose order means nothing. */
export function sortedByJson<T>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));
}
