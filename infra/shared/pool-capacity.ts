import type { InstanceSpec } from "./instance-specs";

/** What one copy of an inference component reserves on an instance. */
export interface CopyRequirement {
  readonly accelerators: number;
  readonly cpus: number;
  readonly memoryMiB: number;
}

/** What an empty instance of `spec` offers, in the units a copy reserves. */
export function instanceCapacity(spec: InstanceSpec): CopyRequirement {
  return { accelerators: spec.accelerators, cpus: spec.vcpus, memoryMiB: spec.memoryGiB * 1024 };
}

/**
 * Instances of `spec` that hold `copies`, packed first-fit decreasing (largest copies first,
 * each on the first instance with room on every resource). SageMaker places copies itself; this
 * is the estimate the config check and `modelgate cost` use, exact for the usual case of equal
 * copies or one resource that binds. A copy that fits no instance counts one instance of its own
 * (the config check refuses such a copy before this is asked).
 */
export function instancesFor(copies: readonly CopyRequirement[], spec: InstanceSpec): number {
  const whole = instanceCapacity(spec);
  const share = (c: CopyRequirement) =>
    Math.max(whole.accelerators > 0 ? c.accelerators / whole.accelerators : 0, c.cpus / whole.cpus, c.memoryMiB / whole.memoryMiB);
  const free: Array<{ accelerators: number; cpus: number; memoryMiB: number }> = [];
  for (const c of [...copies].sort((a, b) => share(b) - share(a))) {
    const room = free.find((f) => f.accelerators >= c.accelerators && f.cpus >= c.cpus && f.memoryMiB >= c.memoryMiB);
    if (room) {
      room.accelerators -= c.accelerators;
      room.cpus -= c.cpus;
      room.memoryMiB -= c.memoryMiB;
    } else {
      free.push({
        accelerators: Math.max(0, whole.accelerators - c.accelerators),
        cpus: Math.max(0, whole.cpus - c.cpus),
        memoryMiB: Math.max(0, whole.memoryMiB - c.memoryMiB),
      });
    }
  }
  return free.length;
}

/** `n` copies of `req`, for instancesFor. */
export function copiesOf(req: CopyRequirement, n: number): CopyRequirement[] {
  return Array.from({ length: n }, () => req);
}
