import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";
import { encodeBase62, randomBase62 } from "./base62";

/**
 * API key format: `mg_live_<keyId>_<secret><crc32>` (GitHub token style).
 * - keyId: 16 base62 chars, the lookup key (not secret);
 * - secret: 32 base62 chars, ~190 bits; only its SHA-256 is stored;
 * - crc32: 6 base62 chars of CRC-32 over everything before it, so typos and truncated
 *   keys are refused without a database read and scanners can validate leaked keys.
 */
export const KEY_PREFIX = "mg_live_";
const KEY_ID_LENGTH = 16;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = new RegExp(
  `^${KEY_PREFIX}([0-9A-Za-z]{${KEY_ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);
export const KEY_LENGTH = KEY_PREFIX.length + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;

export interface ParsedKey {
  readonly keyId: string;
  readonly secret: string;
}

export interface GeneratedKey extends ParsedKey {
  /** The whole key, shown to its owner once. */
  readonly apiKey: string;
  /** SHA-256 of the secret (hex): the only form that is stored. */
  readonly secretHash: string;
  /** Non-secret prefix for display: `mg_live_<keyId>`. */
  readonly displayPrefix: string;
}

function checksum(body: string): string {
  return encodeBase62(BigInt(crc32(body)), CHECKSUM_LENGTH);
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function generateApiKey(random: (size: number) => Uint8Array = randomBytes): GeneratedKey {
  const keyId = randomBase62(KEY_ID_LENGTH, random);
  const secret = randomBase62(SECRET_LENGTH, random);
  const body = `${KEY_PREFIX}${keyId}_${secret}`;
  return { keyId, secret, apiKey: body + checksum(body), secretHash: hashSecret(secret), displayPrefix: `${KEY_PREFIX}${keyId}` };
}

/**
 * Parses a presented key; `undefined` for anything malformed or with a bad checksum. Pure and
 * cheap: the authorizer calls it before any database read.
 */
export function parseApiKey(presented: string | undefined | null): ParsedKey | undefined {
  if (typeof presented !== "string" || presented.length !== KEY_LENGTH) return undefined;
  const m = KEY_PATTERN.exec(presented);
  if (!m) return undefined;
  const [, keyId, secret, sum] = m;
  if (!keyId || !secret || !sum) return undefined;
  if (checksum(presented.slice(0, -CHECKSUM_LENGTH)) !== sum) return undefined;
  return { keyId, secret };
}

/** Constant-time comparison of a presented secret with a stored SHA-256 hex digest. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/** Extracts the presented key from `Authorization: Bearer …` or `x-api-key`. */
export function presentedKey(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  const auth = headerValue(headers, "authorization");
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1];
  }
  return headerValue(headers, "x-api-key");
}

/** Case-insensitive header lookup (API Gateway keeps the client's casing). */
export function headerValue(headers: Readonly<Record<string, string | undefined>> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}
