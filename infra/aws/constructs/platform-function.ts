import { existsSync } from "node:fs";
import { join } from "node:path";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { POWERTOOLS_ENV } from "../../../functions/contract/settings";

export interface PlatformFunctionProps {
  /** Repository root: `functions/<name>/handler.ts` is the entry, `package-lock.json` the lock file. */
  readonly projectRoot: string;
  /** Handler folder under `functions/`. */
  readonly handlerName: string;
  readonly description: string;
  /** Variables on top of the Powertools and source-map ones. */
  readonly environment: Readonly<Record<string, string>>;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Powertools log level. @default "INFO" */
  readonly logLevel?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default lambda.Runtime.NODEJS_24_X */
  readonly runtime?: lambda.Runtime;
  /** Concurrent executions reserved for (and capping) the function. @default none: the account's pool */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One handler as a Lambda function: bundled by the local esbuild (never Docker) into a
 * minified ESM file with a source map, Node.js 24 on arm64, X-Ray tracing, Powertools
 * environment, and its own log group with a retention.
 */
export class PlatformFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    const entry = join(props.projectRoot, "functions", props.handlerName, "handler.ts");
    if (!existsSync(entry)) {
      throw new Error(`PlatformFunction ${this.node.path}: handler entry not found: ${entry}`);
    }
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${props.handlerName} handler`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new nodejs.NodejsFunction(this, "Function", {
      role: this.role,
      entry,
      handler: "handler",
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, "package-lock.json"),
      description: props.description,
      runtime: props.runtime ?? lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        [POWERTOOLS_ENV.logLevel]: props.logLevel ?? "INFO",
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: "node22",
        mainFields: ["module", "main"],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the SDK too: the handlers are tested against the versions in package-lock.json.
        externalModules: [],
        // CommonJS dependencies bundled into ESM still call require().
        banner: "import { createRequire as __mgRequire } from 'node:module'; const require = __mgRequire(import.meta.url);",
      },
    });
  }

  /**
   * lambda:InvokeFunction on the unqualified function only (Function.grantInvoke would add its
   * versions and aliases, `:*`): how LambdaShadowDispatcher hands off shadow copies (InvokeCommand,
   * InvocationType Event).
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ["lambda:InvokeFunction"], resourceArns: [this.function.functionArn] });
  }
}
