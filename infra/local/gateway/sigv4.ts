import { createHash, timingSafeEqual } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { IncomingRequest } from "./events";

export interface AdminCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export type SigV4Outcome = { readonly ok: true; readonly accessKeyId: string } | { readonly ok: false; readonly reason: string };

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
/** AWS refuses a signature whose date is more than 5 minutes from its clock. */
export const MAX_SKEW_MS = 5 * 60 * 1000;

interface ParsedAuthorization {
  readonly region: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly signingDate: Date;
}

type HeaderCheck = { readonly ok: true; readonly parsed: ParsedAuthorization } | { readonly ok: false; readonly reason: string };

/**
 * What can be checked of a SigV4 request from its headers alone (form, key id, service, date,
 * `host` signed), so the gateway refuses a bad one before reading its body.
 */
export function checkSigV4Header(req: Pick<IncomingRequest, "headers">, credential: AdminCredential, now = Date.now()): HeaderCheck {
  const auth = req.headers.authorization;
  const m = typeof auth === "string" ? AUTH.exec(auth) : null;
  if (!m) return { ok: false, reason: "missing or malformed SigV4 Authorization header" };
  const [, accessKeyId, , region, service, signedHeaders, signature] = m as unknown as string[];
  if (accessKeyId !== credential.accessKeyId) return { ok: false, reason: "unknown access key" };
  if (service !== "execute-api") return { ok: false, reason: "signed for another service" };
  // Without `host` signed, a signature could be replayed against another endpoint.
  if (!(signedHeaders ?? "").split(";").includes("host")) return { ok: false, reason: "the host header must be signed" };
  const amzDate = req.headers["x-amz-date"];
  if (typeof amzDate !== "string") return { ok: false, reason: "missing x-amz-date" };
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || Math.abs(signingDate.getTime() - now) > MAX_SKEW_MS)
    return { ok: false, reason: "signature expired or date invalid" };
  return {
    ok: true,
    parsed: { region: region ?? "us-east-1", signedHeaders: signedHeaders ?? "", signature: signature ?? "", signingDate },
  };
}

/**
 * Signatures already accepted, each remembered until its date leaves the skew window: within it,
 * the same signature again is a replay (a captured admin request sent twice). Bounded: past
 * `capacity` the oldest is forgotten first, and so it is the one whose window ends soonest.
 */
export class SignatureReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly capacity = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time a signature is offered within its window; false for a replay. */
  accept(signature: string, signingDate: Date): boolean {
    const now = this.now();
    for (const [sig, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(sig);
    }
    const until = this.seen.get(signature);
    if (until !== undefined && until > now) return false;
    if (this.seen.size >= this.capacity) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(signature, signingDate.getTime() + MAX_SKEW_MS);
    return true;
  }
}

/**
 * Verifies an AWS SigV4 signature (service `execute-api`) the way API Gateway's IAM
 * authorization does, against the local admin credential: the request is re-signed with
 * exactly the headers the client signed and the signatures compared in constant time. With
 * `replays`, a signature accepted before within its window is refused.
 */
export async function verifySigV4(
  req: IncomingRequest,
  credential: AdminCredential,
  now = Date.now(),
  replays?: SignatureReplayGuard,
): Promise<SigV4Outcome> {
  const header = checkSigV4Header(req, credential, now);
  if (!header.ok) return header;
  const { region, signedHeaders, signature, signingDate } = header.parsed;

  const declaredHash = req.headers["x-amz-content-sha256"];
  if (typeof declaredHash === "string" && declaredHash !== createHash("sha256").update(req.body).digest("hex")) {
    return { ok: false, reason: "body does not match x-amz-content-sha256" };
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(";")) {
    const v = req.headers[name];
    if (v === undefined) return { ok: false, reason: `signed header '${name}' missing` };
    headers[name] = Array.isArray(v) ? v.join(",") : v;
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of req.query) {
    const prev = query[k];
    query[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
  }
  const request = {
    method: req.method,
    protocol: "http:",
    hostname: String(req.headers.host ?? "").replace(/:\d+$/, ""),
    path: req.path,
    query,
    headers,
    body: req.body.length ? req.body : undefined,
  };
  const signer = new SignatureV4({
    credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
    region,
    service: "execute-api",
    sha256: Sha256,
    uriEscapePath: true,
  });
  const signed = await signer.sign(request, { signingDate });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
  const ok = expected.length === 64 && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  if (!ok) return { ok: false, reason: "signature mismatch" };
  // Recorded only once verified: an unverified signature proves nothing and must not take room.
  if (replays && !replays.accept(signature, signingDate)) return { ok: false, reason: "replayed signature" };
  return { ok: true, accessKeyId: credential.accessKeyId };
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}
