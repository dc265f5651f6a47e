import type { ModelSignature } from "./model-host";
import type { ComponentCopies, ComponentLease, ComponentTarget } from "./sagemaker-runtime";
import type { VersionHost } from "./version-hosts";

/** A running copy of a component: a model host, closed (its model released) to scale in. */
export type ComponentCopy = VersionHost;

export interface ScaledComponentOptions {
  readonly componentName: string;
  readonly protocol?: "sagemaker" | "openai";
  /** Starts a copy: a model host loading the version's model. */
  readonly load: () => Promise<ComponentCopy>;
  /** 0: the component scales to zero once idle for `idleMs`; 1 or more: its copy stays loaded. */
  readonly minCopies: number;
  /** Copies at start; SageMaker creates a component with at least one. @default max(1, minCopies) */
  readonly initialCopies?: number;
  /** How long a scale-to-zero component may go without a call before its copy is closed. */
  readonly idleMs: number;
  readonly log?: (message: string) => void;
  /** Told each change of the copy count (1 loaded, 0 closed): the local host's record for showback. */
  readonly onCopies?: (copies: number) => void;
}

/**
 * The local host's stand-in for a component's copy count, on one machine: one copy or none.
 * A component with `minCopies` 0 closes its model host after `idleMs` without calls (never
 * while a call is in flight), so memory follows use; a call that finds no copy is answered "no
 * capacity" by the emulator and starts loading one in the background, as the cloud's
 * NoCapacityInvocationFailures alarm scales a component out from zero.
 */
export class ScaledComponent implements ComponentTarget {
  readonly componentName: string;
  readonly protocol?: "sagemaker" | "openai";
  private copy: ComponentCopy | undefined;
  private loading: Promise<void> | undefined;
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log: (message: string) => void;

  constructor(private readonly opts: ScaledComponentOptions) {
    this.componentName = opts.componentName;
    if (opts.protocol) this.protocol = opts.protocol;
    this.log = opts.log ?? (() => undefined);
  }

  /** Loads the initial copy (awaited, so a bad artifact fails the start); none when `initialCopies` is 0. */
  async start(): Promise<void> {
    if ((this.opts.initialCopies ?? Math.max(1, this.opts.minCopies)) > 0) await this.scaleOut();
  }

  acquire(): ComponentLease | undefined {
    const copy = this.copy;
    if (this.closed) return undefined;
    if (!copy) {
      void this.scaleOut().catch(() => undefined);
      return undefined;
    }
    this.inFlight += 1;
    clearTimeout(this.idleTimer);
    let released = false;
    return {
      url: copy.url,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        if (this.inFlight === 0) this.armIdle();
      },
    };
  }

  /** The loaded copy's model signature, when it has one (none while scaled to zero). */
  get signature(): ModelSignature | undefined {
    return this.copy?.signature;
  }

  describe(): ComponentCopies {
    return {
      currentCopies: this.copy ? 1 : 0,
      minCopies: this.opts.minCopies,
      status: this.copy ? "InService" : this.loading ? "Loading" : "ScaledToZero",
      ...(this.copy ? { url: this.copy.url } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    await this.loading?.catch(() => undefined);
    const copy = this.copy;
    this.copy = undefined;
    if (copy) this.opts.onCopies?.(0);
    await copy?.close();
  }

  /** One load at a time; a copy that finishes loading after close() is closed at once. */
  private scaleOut(): Promise<void> {
    this.loading ??= this.opts
      .load()
      .then(
        async (copy) => {
          if (this.closed) return copy.close();
          this.copy = copy;
          this.opts.onCopies?.(1);
          this.log(`${this.componentName}: copy loaded (${copy.url})`);
          this.armIdle();
        },
        (err: unknown) => {
          // The next call tries again; until then the component stays at zero.
          this.log(`${this.componentName}: copy failed to load: ${(err as Error).message}`);
          throw err;
        },
      )
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private armIdle(): void {
    if (this.opts.minCopies > 0 || this.closed) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.scaleToZero(), this.opts.idleMs);
    // An idle component must not keep a process alive that is otherwise done.
    this.idleTimer.unref();
  }

  private async scaleToZero(): Promise<void> {
    const copy = this.copy;
    if (!copy || this.inFlight > 0) return;
    this.copy = undefined;
    this.opts.onCopies?.(0);
    await copy.close().catch((err: unknown) => this.log(`${this.componentName}: copy did not close cleanly: ${(err as Error).message}`));
    this.log(`${this.componentName}: scaled to zero after ${this.opts.idleMs} ms idle`);
  }
}
