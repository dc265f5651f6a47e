import { describe, expect, it } from "@jest/globals";
import { resolveApiKey } from "../../cli/api-key";
import { checkUrl } from "../../cli/context";
import { CliError, EXIT } from "../../cli/errors";

describe("--endpoint", () => {
  it.each([
    "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
    "http://127.0.0.1:3000",
    "http://127.8.9.10:3000/",
    "http://localhost:3000",
    "http://[::1]:3000",
    "http://127.1:3000",
  ])("accepts %s", (url) => {
    expect(checkUrl(url)).toBe(url);
  });

  it.each([
    "http://abc.execute-api.eu-west-1.amazonaws.com/prod",
    "http://10.0.0.5:3000",
    "http://127.0.0.1.nip.io:3000",
    "http://localhost.example.com",
    "ftp://127.0.0.1",
    "not a url",
  ])("refuses %s with a usage error", (url) => {
    const err = (() => {
      try {
        checkUrl(url);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.badArguments);
  });

  it("says why plain http is refused", () => {
    expect(() => checkUrl("http://api.example.com")).toThrow(/must use https:\/\/ \(plain http:\/\/ only to loopback/);
  });
});

describe("the API key from a file or stdin", () => {
  const files: Record<string | number, string> = { "/keys/acme": "  mg_live_abc\n", 0: "mg_live_stdin\n", "/keys/empty": "\n" };
  const read = (f: string | 0) => {
    const text = files[f];
    if (text === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
    return text;
  };

  it("reads --key-file and --key - (stdin), trimmed; --key as given", () => {
    expect(resolveApiKey({ keyFile: "/keys/acme" }, undefined, read)).toBe("mg_live_abc");
    expect(resolveApiKey({ key: "-" }, undefined, read)).toBe("mg_live_stdin");
    expect(resolveApiKey({ key: "mg_live_argv" }, "demo", read)).toBe("mg_live_argv");
  });

  it("refuses both, a missing file, an empty one and more than one word", () => {
    expect(() => resolveApiKey({ key: "k", keyFile: "/keys/acme" }, undefined, read)).toThrow(/not both/);
    expect(() => resolveApiKey({ keyFile: "/keys/none" }, undefined, read)).toThrow(/ENOENT/);
    expect(() => resolveApiKey({ keyFile: "/keys/empty" }, undefined, read)).toThrow(/no API key/);
    files["/keys/two"] = "a b";
    expect(() => resolveApiKey({ keyFile: "/keys/two" }, undefined, read)).toThrow(/one API key/);
  });
});
