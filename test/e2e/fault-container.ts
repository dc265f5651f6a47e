import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultContainer {
  readonly url: string;
  /** Invocations received so far (a slow one counts when it arrives, before it answers). */
  invocations(): number;
  close(): Promise<void>;
}

/**
 * A model container (SageMaker contract: GET /ping, POST /invocations) that misbehaves on
 * purpose: `fail` answers every invocation 500, `slow` answers 200 after `delayMs`. The e2e
 * platform serves some versions from these to prove fallback and shadow isolation.
 */
export async function startFaultContainer(mode: "fail" | "slow", delayMs = 1500): Promise<FaultContainer> {
  let invocations = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url !== "/ping") invocations++;
      if (req.url === "/ping") {
        res.writeHead(200).end();
      } else if (mode === "fail") {
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: "injected model failure" }));
      } else {
        setTimeout(() => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ model_name: "slow", outputs: [{ name: "label", shape: [1], datatype: "INT64", data: [0] }] }));
        }, delayMs);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    invocations: () => invocations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
