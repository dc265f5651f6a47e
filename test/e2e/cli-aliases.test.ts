import { spawnSync } from "node:child_process";
import { describe, expect, it } from "@jest/globals";
import { parseTargets } from "../../cli/commands/aliases";
import { call, e2ePlatform, eventually, inferBody } from "./helpers";

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["cli/bin.mjs", "--data-dir", e2ePlatform().dataDir, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("modelgate aliases", () => {
  it("parses one version or weighted pairs, and refuses anything else", () => {
    expect(parseTargets(["3"])).toBe(3);
    expect(parseTargets(["1=90", "2=10"])).toEqual([
      { version: 1, weight: 90 },
      { version: 2, weight: 10 },
    ]);
    expect(() => parseTargets(["1:90"])).toThrow(/version>=<weight/);
  });

  it("sets an alias to a version, then to weights, and requests follow it", async () => {
    const alias = `cli-${Date.now().toString(36)}`;
    const created = cli("aliases", "set", "iris", alias, "2", "--json");
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ alias, targets: [{ version: 2, weight: 100 }], revision: 1 });
    const res = await eventually(
      () => call(`/v2/models/iris/versions/${alias}/infer`, { key: e2ePlatform().apiKey, body: inferBody() }),
      (r) => r.status === 200,
    );
    expect(res.headers.get("x-model-version")).toBe("2");

    const weighted = cli("aliases", "set", "iris", alias, "1=50", "2=50", "--json");
    expect(JSON.parse(weighted.stdout)).toMatchObject({
      targets: [
        { version: 1, weight: 50 },
        { version: 2, weight: 50 },
      ],
      revision: 2,
    });
    const shown = cli("aliases", "show", "iris", alias);
    expect(shown.stdout).toContain("v1=50 v2=50");

    const bad = cli("aliases", "set", "iris", alias, "9");
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  });
});
