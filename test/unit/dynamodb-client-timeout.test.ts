import { createServer, type Server, type Socket } from "node:net";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../functions/aws/clients";

describe("the handlers' DynamoDB client", () => {
  let server: Server;
  const sockets: Socket[] = [];
  let connections = 0;
  let endpoint = "";
  beforeAll(async () => {
    // Accepts connections and never answers: a DynamoDB that hangs.
    server = createServer((s) => {
      connections++;
      sockets.push(s);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as { port: number };
    endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it("gives up on a hung call within the gateway's 29 s, after its attempts", async () => {
    const { dynamo } = createAwsClients({
      dynamodb: { endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } },
    });
    const started = Date.now();
    await expect(dynamo.send(new GetCommand({ TableName: "t", Key: { pk: "a" } }))).rejects.toThrow();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(29_000);
    expect(elapsed).toBeGreaterThanOrEqual(8_000);
    expect(connections).toBe(3);
  }, 40_000);
});
