/** At most `max` calls in flight per key; the rest queue in arrival order. */
export class KeyedGate {
  private readonly lanes = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(private readonly max: number) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { active: 0, waiting: [] };
      this.lanes.set(key, lane);
    }
    const own = lane;
    if (own.active < this.max) own.active++;
    else await new Promise<void>((resolve) => own.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter; forget the lane once idle.
      const next = own.waiting.shift();
      if (next) next();
      else if (--own.active === 0) this.lanes.delete(key);
    }
  }
}
