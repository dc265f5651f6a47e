import { describe, expect, it } from "@jest/globals";
import { CliError, EXIT } from "../../cli/errors";
import { buildProgram } from "../../cli/main";
import { versionParam } from "../../functions/admin/schemas";
import { NotFoundError } from "../../functions/core/errors";
import { parseVersionOrAlias } from "../../functions/core/routing";
import { parseVersionNumber, VERSION_NUMBER } from "../../functions/core/version-number";
import { versionConfigSchema } from "../../infra/shared/config-schema";

/** What the CLI makes of an argument list, without reaching any endpoint. */
async function cliFailure(args: string[]): Promise<CliError> {
  try {
    await buildProgram().parseAsync(["node", "modelgate", ...args]);
  } catch (err) {
    return err as CliError;
  }
  throw new Error("the command line was accepted");
}

describe("version numbers: one rule, 1..9999, everywhere", () => {
  it("the text rule takes canonical 1..9999 and nothing else", () => {
    expect(["1", "42", "9999"].map(parseVersionNumber)).toEqual([1, 42, 9999]);
    for (const bad of ["0", "10000", "01", "+1", "-1", "1.0", " 1", ""]) expect(parseVersionNumber(bad)).toBeUndefined();
  });

  it("the JSON rule, the admin path rule and the config agree on the bounds", () => {
    expect(VERSION_NUMBER.safeParse(9999).success).toBe(true);
    expect(VERSION_NUMBER.safeParse(10000).success).toBe(false);
    expect(versionParam.safeParse("9999").success).toBe(true);
    expect(versionParam.safeParse("10000").success).toBe(false);
    expect(versionConfigSchema.safeParse({ version: 10000, artifact: "a.onnx" }).success).toBe(false);
    expect(parseVersionOrAlias("9999")).toEqual({ kind: "version", version: 9999 });
    expect(() => parseVersionOrAlias("10000")).toThrow(NotFoundError);
  });

  it("the CLI refuses a version no route would accept, as a bad command line", async () => {
    for (const args of [
      ["invoke", "iris", "--version", "10000", "--data", "{}"],
      ["invoke", "iris", "--version", "0", "--data", "{}"],
      ["aliases", "set", "iris", "prod", "10000"],
      ["aliases", "set", "iris", "prod", "1", "--fallback", "12345"],
    ]) {
      const err = await cliFailure(args);
      expect(err).toBeInstanceOf(CliError);
      expect(err.exitCode).toBe(EXIT.badArguments);
      expect(err.message).toMatch(/version number 1–9999/);
    }
  });
});
