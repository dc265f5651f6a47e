import { App, type AppProps, type Environment, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { parsePlatformConfig } from "../shared/config";
import { resolveArtifacts } from "../shared/load-config";
import type { DataCaptureOptions } from "./constructs/model-endpoint";
import { PlatformStack } from "./platform-stack";

/** Feature flags this app is written against (cdk.json adds its own; these fill the gaps). */
export const PLATFORM_FEATURE_FLAGS: Readonly<Record<string, boolean>> = {
  // Server access logs delivered through a bucket policy, not the legacy log-delivery ACL.
  "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
};

/**
 * An App with the platform's feature flags. CDK's built-in CloudFormation schema validation
 * is off unless asked for: it takes most of a synth's time (tens of seconds against ~3 s for
 * everything else), and the assertions in test/infra check the properties that matter.
 */
export function newPlatformApp(props: AppProps = {}): App {
  return new App({
    builtinCloudFormationValidation: false,
    ...props,
    context: { ...PLATFORM_FEATURE_FLAGS, ...props.context },
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
