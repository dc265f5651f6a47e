import type { InstanceSpec } from "./instance-specs";

/** What one copy of an inference component reserves on an instance. */
export interface CopyRequirement {
  readonly accelerators: number;
  readonly cpus: number;
  readonly memoryMiB: number;
}

/** Whether one copy fits an empty instance of `spec`; the first resource that does not, otherwise. */
export function misfit(req: CopyRequirement, spec: InstanceSpec): "accelerators" | "cpus" | "memoryMiB" | undefined {
  if (req.accelerators > spec.accelerators) return "accelerators";
  if (req.cpus > spec.vcpus) return "cpus";
  if (req.memoryMiB > spec.memoryGiB * 1024) return "memoryMiB";
  return undefined;
}

/**
 * Instances of `spec` that hold `copies`, packed first-fit decreasing (largest copies first,
 * each on the first instance with room on every resource). SageMaker places copies itself; this
 * is the estimate the config check and `modelgate cost` use, exact for the usual case of equal
 * copies or one resource that binds. A copy that fits no instance counts one instance of its own
 * (the config check refuses such a copy before this is asked).
 */
export function instancesFor(copies: readonly CopyRequirement[], spec: InstanceSpec): number {
  const share = (c: CopyRequirement) =>
    Math.max(spec.accelerators > 0 ? c.accelerators / spec.accelerators : 0, c.cpus / spec.vcpus, c.memoryMiB / (spec.memoryGiB * 1024));
  const free: Array<{ accelerators: number; cpus: number; memoryMiB: number }> = [];
  for (const c of [...copies].sort((a, b) => share(b) - share(a))) {
    const room = free.find((f) => f.accelerators >= c.accelerators && f.cpus >= c.cpus && f.memoryMiB >= c.memoryMiB);
    if (room) {
      room.accelerators -= c.accelerators;
      room.cpus -= c.cpus;
      room.memoryMiB -= c.memoryMiB;
    } else {
      free.push({
        accelerators: Math.max(0, spec.accelerators - c.accelerators),
        cpus: Math.max(0, spec.vcpus - c.cpus),
        memoryMiB: Math.max(0, spec.memoryGiB * 1024 - c.memoryMiB),
      });
    }
  }
  return free.length;
}

/** `n` copies of `req`, for instancesFor. */
export function copiesOf(req: CopyRequirement, n: number): CopyRequirement[] {
  return Array.from({ length: n }, () => req);
}
