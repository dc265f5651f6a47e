const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Base62 of an unsigned integer, left-padded with '0' to `width`. */
export function encodeBase62(value: bigint, width: number): string {
  let out = "";
  let v = value;
  while (v > 0n) {
    out = ALPHABET[Number(v % 62n)] + out;
    v /= 62n;
  }
  return out.padStart(width, "0");
}

/** `n` characters of uniform base62 drawn from `randomBytes` by rejection sampling (no modulo bias). */
export function randomBase62(n: number, randomBytes: (size: number) => Uint8Array): string {
  let out = "";
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      // 62 * 4 = 248: bytes at or above it would bias the first characters.
      if (b < 248 && out.length < n) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export const BASE62 = /^[0-9A-Za-z]+$/;
