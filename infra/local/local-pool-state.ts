import type { PoolSeed } from "../../functions/contract/seed";
import type { LivePool, PoolStateSource } from "../../functions/core/billing/showback-report";
import type { ComponentSnapshot } from "./sagemaker-runtime";

/**
 * What the local pools run now: each component's copies as the SageMaker emulator holds them. A
 * local pool has no instances of its own (every copy runs on this machine), so none are told.
 */
export class LocalPoolState implements PoolStateSource {
  constructor(private readonly components: () => readonly ComponentSnapshot[]) {}

  async live(pool: PoolSeed): Promise<LivePool> {
    const copies: Record<string, number> = {};
    for (const c of this.components()) if (c.endpointName === pool.endpointName) copies[c.componentName] = c.currentCopies;
    return { copies };
  }
}
