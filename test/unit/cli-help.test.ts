import { describe, expect, it } from "@jest/globals";
import type { Command } from "commander";
import { parseDuration, parseExpiry, parseList } from "../../cli/durations";
import { CliError, EXIT } from "../../cli/errors";
import { buildProgram } from "../../cli/main";

const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];

describe("modelgate CLI", () => {
  it("has a description and help text on every command of the contract", () => {
    const cmds = all(buildProgram());
    const names = cmds.map((c) => {
      const path: string[] = [];
      for (let x: Command | null = c; x; x = x.parent) path.unshift(x.name());
      return path.join(" ");
    });
    for (const want of [
      "modelgate tenants create",
      "modelgate tenants list",
      "modelgate tenants show",
      "modelgate tenants update",
      "modelgate tenants disable",
      "modelgate tenants delete",
      "modelgate keys create",
      "modelgate keys list",
      "modelgate keys revoke",
      "modelgate keys rotate",
      "modelgate invoke",
      "modelgate usage show",
    ])
      expect(names).toContain(want);
    for (const c of cmds) {
      expect({ command: c.name(), description: c.description() }).not.toMatchObject({ description: "" });
      expect(c.helpInformation()).toMatch(/^Usage: /);
    }
  });

  it("parses durations and expiries, refusing anything else as a usage error", () => {
    expect(parseDuration("90s", "--grace")).toBe(90);
    expect(parseDuration("10m", "--grace")).toBe(600);
    expect(parseDuration("7d", "--grace")).toBe(604_800);
    expect(parseDuration("15", "--grace")).toBe(15);
    expect(parseExpiry("30d", "--expires", 0)).toBe(new Date(30 * 86_400_000).toISOString());
    expect(parseExpiry("2030-01-02T03:04:05Z", "--expires")).toBe("2030-01-02T03:04:05.000Z");
    for (const bad of ["soon", "-1m", "1w", ""]) {
      const err = (() => {
        try {
          parseDuration(bad, "--grace");
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(EXIT.badArguments);
    }
    expect(() => parseExpiry("tomorrow", "--expires")).toThrow(/ISO date-time or a duration/);
    expect(parseList(" iris, iris-b ,,")).toEqual(["iris", "iris-b"]);
  });
});
