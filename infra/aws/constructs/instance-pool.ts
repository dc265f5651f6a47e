import { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sagemaker from "aws-cdk-lib/aws-sagemaker";
import { Construct } from "constructs";
import { componentLogGroup, endpointLogGroup, POOL_COST_TAG, POOL_VARIANT_NAME } from "../../../functions/contract/sagemaker-names";
import { initialInstances, type PoolConfig } from "../../shared/pool-schema";
import { hasInstanceStorage } from "./model-endpoint";
import type { ModelStore } from "./model-store";
import { grantRuntimeBasics } from "./serving-model";

export interface InstancePoolProps {
  /** SageMaker endpoint name of the pool (`poolEndpointName`). */
  readonly endpointName: string;
  readonly pool: string;
  readonly config: PoolConfig;
  /** Its KMS key encrypts the instances' ML storage volumes (where the instance type has no instance store). */
  readonly store: ModelStore;
  /**
   * Inference component names this pool hosts: its role may write their log groups
   * (`/aws/sagemaker/InferenceComponents/<name>`). @default none
   */
  readonly componentNames?: readonly string[];
}

/**
 * A shared instance pool: one SageMaker endpoint whose one production variant holds instances
 * (no model of its own) that inference components share. Its EndpointConfig carries the instance
 * type, managed instance scaling between min and max instances, the routing strategy, and the
 * execution role SageMaker needs to run components on it.
 */
export class InstancePool extends Construct {
  readonly endpointName: string;
  readonly poolName: string;
  readonly config: PoolConfig;
  /** The inference components placed on the pool (their log groups are the role's). */
  readonly componentNames: readonly string[];
  readonly endpointArn: string;
  readonly role: iam.Role;
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  readonly endpoint: sagemaker.CfnEndpoint;
  /** True when the EndpointConfig could not take a KMS key because of instance storage. */
  readonly volumeKeyOmitted: boolean;

  constructor(scope: Construct, id: string, props: InstancePoolProps) {
    super(scope, id);
    const { config } = props;
    if (!config.managedInstanceScaling && config.instances.min === 0) {
      // The schema refuses this; it guards the construct used directly.
      throw new Error(`InstancePool ${this.node.path}: instances.min 0 needs managedInstanceScaling`);
    }
    this.endpointName = props.endpointName;
    this.poolName = props.pool;
    this.config = config;
    this.componentNames = props.componentNames ?? [];
    this.endpointArn = Stack.of(this).formatArn({ service: "sagemaker", resource: "endpoint", resourceName: props.endpointName });

    this.role = new iam.Role(this, "ExecutionRole", {
      assumedBy: new iam.ServicePrincipal("sagemaker.amazonaws.com"),
      description: `SageMaker execution role of pool ${props.endpointName}`,
    });
    grantRuntimeBasics(this.role, [endpointLogGroup(props.endpointName), ...this.componentNames.map(componentLogGroup)]);

    this.volumeKeyOmitted = hasInstanceStorage(config.instanceType);
    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, "Config", {
      executionRoleArn: this.role.roleArn,
      productionVariants: [
        {
          variantName: POOL_VARIANT_NAME,
          instanceType: config.instanceType,
          initialInstanceCount: initialInstances(config),
          ...(config.managedInstanceScaling
            ? {
                managedInstanceScaling: {
                  status: "ENABLED",
                  minInstanceCount: config.instances.min,
                  maxInstanceCount: config.instances.max,
                },
              }
            : {}),
          routingConfig: { routingStrategy: config.routingStrategy },
        },
      ],
      ...(this.volumeKeyOmitted ? {} : { kmsKeyId: props.store.key.keyArn }),
    });
    this.endpointConfig.node.addDependency(this.role);

    this.endpoint = new sagemaker.CfnEndpoint(this, "Resource", {
      endpointName: props.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      // The pool's cost-allocation tag: once activated in the Billing console, Cost Explorer
      // reports what the endpoint's instances cost, which showback splits over tenants.
      tags: [{ key: POOL_COST_TAG, value: props.endpointName }],
    });
  }

  /**
   * Lets `grantee` read the pools' costs from Cost Explorer (GetCostAndUsage, filtered by the
   * pools' cost-allocation tag at run time). Cost Explorer has no resource-level permissions:
   * the statement's resource is `*`, so grant it to the one function that serves showback.
   */
  static grantCostRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ["ce:GetCostAndUsage"], resourceArns: ["*"] });
  }

  /**
   * Lets `grantee` read what the pool runs now: its endpoint's instances (DescribeEndpoint) and
   * each component's copies (DescribeInferenceComponent), on this pool's ARNs only.
   */
  grantDescribe(grantee: iam.IGrantable): iam.Grant {
    iam.Grant.addToPrincipal({ grantee, actions: ["sagemaker:DescribeEndpoint"], resourceArns: [this.endpointArn] });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["sagemaker:DescribeInferenceComponent"],
      resourceArns: this.componentNames.map((name) => this.inferenceComponentArn(name)),
    });
  }

  /** ARN of an inference component (they are named resources of their own, not under the endpoint's ARN). */
  inferenceComponentArn(name: string): string {
    return Stack.of(this).formatArn({ service: "sagemaker", resource: "inference-component", resourceName: name });
  }
}
