import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { createKeyBody } from "../../functions/admin/schemas";
import { isKeyScope, KEY_SCOPES } from "../../functions/core/scopes";

const coreDir = join(import.meta.dirname, "../../functions/core");
const coreFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? coreFiles(join(dir, e.name)) : [join(dir, e.name)]));

describe("key scopes: the core's vocabulary", () => {
  it("the admin API takes exactly the core's scopes", () => {
    for (const scope of KEY_SCOPES) expect(createKeyBody.safeParse({ scopes: [scope] }).success).toBe(true);
    expect(createKeyBody.safeParse({ scopes: ["admin"] }).success).toBe(false);
    expect(isKeyScope("usage:read")).toBe(true);
    expect(isKeyScope("usage")).toBe(false);
  });

  it("the core imports nothing from the hosts (infra)", () => {
    const offenders = coreFiles(coreDir).filter((f) => /from "(\.\.\/)+infra\//.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });
});
