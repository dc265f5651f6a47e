import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AdminCredential } from "../gateway/sigv4";

/** `<data-dir>/credentials.json`: what a user (and the CLI) needs to reach the local platform. */
export interface LocalCredentials {
  readonly apiUrl: string;
  readonly tenantId: string;
  readonly apiKey: string;
  readonly admin: AdminCredential & { readonly region: string };
  /** The local model store (s3rver) and its fixed credential pair, for `modelgate models upload`. */
  readonly s3?: { readonly endpoint: string; readonly accessKeyId: string; readonly secretAccessKey: string };
}

export const credentialsPath = (dataDir: string) => join(dataDir, "credentials.json");

export function readCredentials(dataDir: string): LocalCredentials | undefined {
  const file = credentialsPath(dataDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as LocalCredentials;
}

/** Written with mode 0600: it holds the demo key and the admin secret. */
export function writeCredentials(dataDir: string, creds: LocalCredentials): void {
  const file = credentialsPath(dataDir);
  writeFileSync(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** A fresh local admin credential pair in the shape of an IAM access key. */
export function generateAdminCredential(): AdminCredential {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const id = [...randomBytes(16)].map((b) => alphabet[b % 32]).join("");
  return { accessKeyId: `AKIALOCAL${id}`.slice(0, 20), secretAccessKey: randomBytes(30).toString("base64").replace(/[+/=]/g, "x") };
}
