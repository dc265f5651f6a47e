import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { App, type AppProps, type Environment, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { parsePlatformConfig } from "../shared/config";
import { resolveArtifacts } from "../shared/load-config";
import type { DataCaptureOptions } from "./constructs/model-endpoint";
import { PlatformStack } from "./platform-stack";

/**
 * The feature flags this app is written against: the `context` of the repository's cdk.json
 * (every flag aws-cdk-lib recommends, set to its recommended value). `cdk synth` passes them to
 * the app itself; an App built here (the tests, `createPlatformApp` without an app) gets them as
 * its default context, so both synthesize the same template.
 */
export function platformFeatureFlags(): Record<string, unknown> {
  const file = fileURLToPath(new URL("../../cdk.json", import.meta.url));
  const context = (JSON.parse(readFileSync(file, "utf8")) as { context?: unknown }).context;
  if (typeof context !== "object" || context === null) throw new Error(`${file}: no "context" object`);
  return context as Record<string, unknown>;
}

/**
 * An App with the platform's feature flags. CDK's built-in CloudFormation schema validation
 * is off unless asked for: it takes most of a synth's time (tens of seconds against ~3 s for
 * everything else), and the assertions in test/infra check the properties that matter.
 */
export function newPlatformApp(props: AppProps = {}): App {
  return new App({
    builtinCloudFormationValidation: false,
    ...props,
    // Context the CLI passes (cdk.json, -c) still wins over these defaults.
    context: { ...platformFeatureFlags(), ...props.context },
  });
}

export interface PlatformAppOptions {
  /** The config module's default export, unvalidated. */
  readonly config: unknown;
  /** Shown in validation errors. @default "modelgate.config.ts" */
  readonly configSource?: string;
  /** Directory local artifact paths are relative to (the config file's). */
  readonly baseDir: string;
  /** Repository root (functions/, package-lock.json). */
  readonly projectRoot: string;
  /** @default newPlatformApp() */
  readonly app?: App;
  /** @default the platform name */
  readonly stackName?: string;
  /** @default environment-agnostic */
  readonly env?: Environment;
  readonly webAclArn?: string;
  readonly dataCapture?: DataCaptureOptions;
  /** Run cdk-nag AwsSolutions and Serverless checks. @default true */
  readonly nag?: boolean;
}

/**
 * Validates the config (a bad one throws a ConfigError naming each field), resolves local
 * artifacts, and builds the platform stack. Shared by `app.ts` and the tests, so what the
 * tests synthesize is what `cdk synth` does.
 */
export function createPlatformApp(options: PlatformAppOptions): { app: App; stack: PlatformStack } {
  const config = parsePlatformConfig(options.config, options.configSource);
  const localArtifacts = resolveArtifacts(config, options.baseDir);
  const app = options.app ?? newPlatformApp();
  if (options.nag ?? true) {
    // cdk-nag v3 packs are policy-validation plugins: findings fail `cdk synth`.
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new ServerlessChecks(app, { verbose: true }));
  }
  const stack = new PlatformStack(app, options.stackName ?? config.name, {
    config,
    localArtifacts,
    projectRoot: options.projectRoot,
    description: `${config.name}: Model-as-a-Service (API Gateway, Lambda, DynamoDB, S3, SageMaker)`,
    ...(options.env ? { env: options.env } : {}),
    ...(options.webAclArn ? { webAclArn: options.webAclArn } : {}),
    ...(options.dataCapture ? { dataCapture: options.dataCapture } : {}),
  });
  return { app, stack };
}
