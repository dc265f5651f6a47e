import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { generateApiKey, KEY_LENGTH, parseApiKey, presentedKey, secretMatches } from "../../functions/core/key-format";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe("API key format", () => {
  it("generated keys always parse back to their id and secret, and the secret matches its hash", () => {
    fc.assert(
      fc.property(fc.integer(), () => {
        const key = generateApiKey();
        expect(key.apiKey).toHaveLength(KEY_LENGTH);
        expect(key.apiKey.startsWith(`mg_live_${key.keyId}_`)).toBe(true);
        const parsed = parseApiKey(key.apiKey);
        expect(parsed).toEqual({ keyId: key.keyId, secret: key.secret });
        expect(secretMatches(key.secret, key.secretHash)).toBe(true);
        expect(key.secretHash).not.toContain(key.secret);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses any one-character change (checksum) without a lookup", () => {
    const key = generateApiKey().apiKey;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: KEY_LENGTH - 1 }), fc.constantFrom(...BASE62, "_", "-", "é"), (pos, ch) => {
        fc.pre(key[pos] !== ch);
        const mutated = key.slice(0, pos) + ch + key.slice(pos + 1);
        expect(parseApiKey(mutated)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses wrong lengths, empty, huge and non-ASCII input", () => {
    const key = generateApiKey().apiKey;
    for (const bad of ["", key.slice(0, -1), `${key}0`, "x".repeat(4096), key.replace(/.$/, "ü"), "mg_live_", undefined, null]) {
      expect(parseApiKey(bad as string)).toBeUndefined();
    }
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => parseApiKey(s) === undefined));
  });

  it("a wrong secret with a valid checksum still does not match the stored hash", () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(secretMatches(b.secret, a.secretHash)).toBe(false);
  });

  it("reads the key from Authorization: Bearer or x-api-key, header names in any case", () => {
    expect(presentedKey({ Authorization: "Bearer abc" })).toBe("abc");
    expect(presentedKey({ authorization: "bearer abc" })).toBe("abc");
    expect(presentedKey({ "X-Api-Key": "abc" })).toBe("abc");
    expect(presentedKey({ authorization: "Basic abc" })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });
});
