import { type Agent, type IncomingHttpHeaders, type IncomingMessage, request } from "node:http";

/** The container could not be reached at all (refused, reset before answering, DNS...). */
export class ContainerUnreachableError extends Error {
  override readonly name = "ContainerUnreachableError";
}

/** The container did not answer within the invocation timeout. */
export class ContainerTimeoutError extends Error {
  override readonly name = "ContainerTimeoutError";
}

export interface ContainerResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function containerUrl(base: string, path: string): URL {
  return new URL(path, base.endsWith("/") ? base : `${base}/`);
}

/**
 * Sends one request to a container and resolves with its response stream once the headers
 * arrive. The timeout covers the whole exchange: when it fires the stream is destroyed with
 * ContainerTimeoutError, including mid-body, as SageMaker's 60 s container timeout does.
 */
export function openContainerRequest(
  base: string,
  init: { method: "GET" | "POST"; path: string; headers?: Record<string, string>; body?: Buffer },
  agent: Agent,
  timeoutMs: number,
): Promise<{ response: IncomingMessage; timedOut: () => boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(containerUrl(base, init.path), { method: init.method, agent, headers: init.headers });
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      req.destroy(new ContainerTimeoutError(`no complete response from the container within ${timeoutMs} ms`));
    }, timeoutMs);
    const finished = () => clearTimeout(timer);
    req.once("response", (response) => {
      response.once("end", finished);
      response.once("close", finished);
      resolve({ response, timedOut: () => expired });
    });
    req.once("error", (err) => {
      finished();
      reject(err instanceof ContainerTimeoutError ? err : new ContainerUnreachableError(err.message, { cause: err }));
    });
    req.end(init.body);
  });
}

/** A whole container exchange, body buffered. */
export async function callContainer(
  base: string,
  init: { method: "GET" | "POST"; path: string; headers?: Record<string, string>; body?: Buffer },
  agent: Agent,
  timeoutMs: number,
): Promise<ContainerResponse> {
  const { response, timedOut } = await openContainerRequest(base, init, agent, timeoutMs);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of response) chunks.push(chunk as Buffer);
  } catch (err) {
    // Destroying the request (our timeout) surfaces on the response as a generic "aborted".
    if (timedOut()) throw new ContainerTimeoutError(`no complete response from the container within ${timeoutMs} ms`);
    throw new ContainerUnreachableError((err as Error).message, { cause: err });
  }
  return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) };
}
