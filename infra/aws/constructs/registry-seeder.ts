import { CustomResource, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import type { RegistrySeed } from "../../../functions/contract/seed";
import type { ControlTables } from "./control-tables";
import { PlatformFunction } from "./platform-function";

export interface RegistrySeederProps {
  readonly projectRoot: string;
  /** The control tables: the seed goes into the registry table. */
  readonly tables: ControlTables;
  /** What the registry must hold; may contain deploy-time tokens (bucket name). */
  readonly seed: RegistrySeed;
  /** Variables of the seed function. */
  readonly environment: Readonly<Record<string, string>>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Writes the registry seed (versions with endpoint, variant, artifact URI and sha256; initial
 * aliases) into the registry table at every deploy that changes it, through a custom
 * resource. Aliases an operator has moved since are left alone (see functions/seed).
 */
export class RegistrySeeder extends Construct {
  readonly handler: PlatformFunction;
  readonly provider: cr.Provider;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: RegistrySeederProps) {
    super(scope, id);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.handler = new PlatformFunction(this, "Handler", {
      projectRoot: props.projectRoot,
      handlerName: "seed",
      description: "Seeds the model registry at deploy (custom resource)",
      environment: props.environment,
      memorySize: 256,
      timeout: Duration.minutes(2),
      logRetention: retention,
    });
    props.tables.grantRegistrySeed(this.handler.function);
    this.provider = new cr.Provider(this, "Provider", {
      onEventHandler: this.handler.function,
      logGroup: new logs.LogGroup(this, "ProviderLogs", { retention, removalPolicy: RemovalPolicy.DESTROY }),
    });
    this.resource = new CustomResource(this, "Resource", {
      serviceToken: this.provider.serviceToken,
      resourceType: "Custom::RegistrySeed",
      properties: {
        TableName: props.tables.registry.tableName,
        Seed: Stack.of(this).toJsonString(props.seed),
      },
    });
  }
}
