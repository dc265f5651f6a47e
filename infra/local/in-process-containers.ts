import type { LocalServe } from "./in-process-http";

/**
 * The model containers this process serves itself (the local host's model hosts), by origin:
 * the SageMaker emulator hands a call to one of them in process instead of over a socket, as
 * the handlers' SDK hands its calls to the emulator. A container of another process (a
 * version's `localUrl`, a test's fault container) is not here and is called over HTTP.
 */
const containers = new Map<string, LocalServe>();

/** Registers the server listening at `url`; the returned function removes it (when it closes). */
export function registerInProcessContainer(url: string, serve: LocalServe): () => void {
  const origin = new URL(url).origin;
  containers.set(origin, serve);
  return () => {
    if (containers.get(origin) === serve) containers.delete(origin);
  };
}

/** The in-process server for a URL's origin, if this process serves it. */
export function inProcessContainer(url: URL): LocalServe | undefined {
  return containers.size === 0 ? undefined : containers.get(url.origin);
}
