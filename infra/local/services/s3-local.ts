import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import S3rver from "s3rver";
import { AtomicFilesystemStore } from "./s3-atomic-store";

export interface RunningS3 {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** s3rver checks SigV4 signatures against this fixed credential pair. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** Starts s3rver with its objects stored under `dataDir`, each put or copy visible only once whole. */
export async function startS3Local(dataDir: string): Promise<RunningS3> {
  mkdirSync(dataDir, { recursive: true });
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory: dataDir, silent: true });
  server.store = server.context.store = new AtomicFilesystemStore(dataDir);
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () => server.close(),
  };
}
