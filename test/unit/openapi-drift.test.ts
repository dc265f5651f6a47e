import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { parse } from "yaml";
import { ROUTES } from "../../functions/contract/routes";

type Operation = { security?: Array<Record<string, unknown>> };
const doc = parse(readFileSync("infra/shared/openapi.yaml", "utf8")) as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
};

describe("openapi.yaml and the route table", () => {
  it("is OpenAPI 3.1", () => expect(doc.openapi).toBe("3.1.0"));

  it("documents exactly the routes in routes.ts", () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it("resolves every $ref", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(refs.length).toBeGreaterThan(0);
    const missing = refs.filter(
      (ref) => ref.split("/").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc) === undefined,
    );
    expect(missing).toEqual([]);
  });

  it("documents each route's authorization", () => {
    for (const r of ROUTES) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      const scheme = Object.keys(op?.security?.[0] ?? {})[0] ?? "none";
      expect(`${r.method} ${r.path}: ${scheme}`).toBe(`${r.method} ${r.path}: ${r.auth}`);
    }
  });
});
