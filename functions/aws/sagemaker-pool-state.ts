import { DescribeEndpointCommand, DescribeInferenceComponentCommand, type SageMakerClient } from "@aws-sdk/client-sagemaker";
import type { PoolSeed } from "../contract/seed";
import type { LivePool, PoolStateSource } from "../core/billing/showback-report";

/**
 * What a pool runs now, from SageMaker: the endpoint's instance count (DescribeEndpoint) and each
 * component's current copies (DescribeInferenceComponent). A figure SageMaker does not give (an
 * endpoint or component still being created, a failed call) is left out, not guessed.
 */
export class SageMakerPoolState implements PoolStateSource {
  constructor(private readonly sagemaker: Pick<SageMakerClient, "send">) {}

  async live(pool: PoolSeed): Promise<LivePool> {
    const [endpoint, ...components] = await Promise.all([
      this.sagemaker.send(new DescribeEndpointCommand({ EndpointName: pool.endpointName })).catch(() => undefined),
      ...pool.components.map((c) =>
        this.sagemaker
          .send(new DescribeInferenceComponentCommand({ InferenceComponentName: c.componentName }))
          .then((out) => [c.componentName, out.RuntimeConfig?.CurrentCopyCount] as const)
          .catch(() => [c.componentName, undefined] as const),
      ),
    ]);
    const instances = endpoint?.ProductionVariants?.reduce((n, v) => n + (v.CurrentInstanceCount ?? 0), 0);
    const copies: Record<string, number> = {};
    for (const [name, count] of components) if (count !== undefined) copies[name] = count;
    return { ...(instances !== undefined ? { instances } : {}), copies };
  }
}
