import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, jest } from "@jest/globals";
import type { Command } from "commander";
import { buildProgram, run } from "../../cli/main";

// The README and docs/ show `modelgate …` commands and link files; both rot silently when the
// CLI or the tree changes. This reads them as a reader would: the code they show, the links
// they give. Paths are relative to the repository root, where Jest runs.

const DOCS = [
  "README.md",
  ...readdirSync("docs")
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];
const read = (file: string) => readFileSync(file, "utf8");

const FENCE = /^(```|~~~)[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm;
const INLINE_CODE = /`([^`\n]+(?:\n[^`\n]+)*)`/g;

/** The code a page shows: fenced blocks and inline code spans. */
function codeOf(md: string): string[] {
  const blocks = [...md.matchAll(FENCE)].map((m) => m[2] ?? "");
  const spans = [...md.replace(FENCE, "").matchAll(INLINE_CODE)].map((m) => (m[1] ?? "").replace(/\n/g, " "));
  return [...blocks, ...spans];
}

/** Prose without code: what links and headings are read from. */
const proseOf = (md: string) => md.replace(FENCE, "").replace(INLINE_CODE, "");

const WORD = /^[a-z][a-z0-9-]*$/;

/** Options of the root command that take a value (`--endpoint <url>`), to skip with it. */
function valueOptions(program: Command): Set<string> {
  return new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((f) => f !== undefined)));
}

interface Invocation {
  readonly file: string;
  readonly path: readonly string[];
  readonly line: string;
}

/**
 * Each `modelgate <command> [<subcommand>]` a code sample runs, resolved against the CLI's own
 * command tree: a group takes the next word as its subcommand, a command without subcommands
 * takes the rest as arguments. Grammar lines list alternatives (`tenants list | show <id>`,
 * `usage show|export`); each counts. A word the tree lacks stays in the path, so it is reported.
 */
function invocationsIn(file: string, md: string, program: Command): Invocation[] {
  const withValue = valueOptions(program);
  const found: Invocation[] = [];
  for (const code of codeOf(md)) {
    for (const m of code.matchAll(/(?<![\w./"'-])modelgate[ \t]+([^\n]*)/g)) {
      const line = m[0];
      const [first = "", ...alternatives] = (m[1] ?? "").split(/\s\|\s/);
      const tokens = first.split(/\s+/).filter((t) => t !== "");
      let i = 0;
      const skipOptions = () => {
        while (tokens[i]?.startsWith("-")) i += withValue.has(tokens[i] ?? "") && !tokens[i]?.includes("=") ? 2 : 1;
      };
      skipOptions();
      const top = tokens[i] ?? "";
      if (!WORD.test(top)) continue; // not an invocation: `npx modelgate …`, `--stack-name modelgate \`
      const group = program.commands.find((c) => c.name() === top);
      i += 1;
      if (!group || group.commands.length === 0) {
        found.push({ file, path: [top], line });
        continue;
      }
      skipOptions();
      const subs = (tokens[i] ?? "").split("|").filter((s) => WORD.test(s));
      for (const alt of alternatives) {
        const word = alt.trim().split(/\s+/)[0] ?? "";
        if (WORD.test(word)) subs.push(word);
      }
      if (subs.length === 0) found.push({ file, path: [top], line });
      for (const sub of subs) found.push({ file, path: [top, sub], line });
    }
  }
  return found;
}

/** The command a path names in the CLI, or undefined. */
function resolveCommand(program: Command, path: readonly string[]): Command | undefined {
  let cmd: Command | undefined = program;
  for (const name of path) cmd = cmd?.commands.find((c) => c.name() === name);
  return cmd;
}

/** `modelgate <path> --help` in this process, the way `cli/bin.mjs` runs it. */
async function helpOf(path: readonly string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await run(["node", "modelgate", ...path, "--help"]);
    return { code, out };
  } finally {
    write.mockRestore();
  }
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(md: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of md.replace(FENCE, "").matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = (m[1] ?? "")
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Every relative link of a page that does not resolve: a missing file, or a missing heading. */
function brokenLinks(file: string, md: string, root = process.cwd()): string[] {
  const targets = [
    ...[...proseOf(md).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? ""),
    ...[...proseOf(md).matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1] ?? ""),
  ];
  const broken: string[] = [];
  for (const target of targets) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [pathPart = "", anchor] = target.split("#", 2);
    const to = pathPart === "" ? resolve(root, file) : resolve(root, dirname(file), decodeURI(pathPart));
    if (relative(root, to).startsWith("..") || !existsSync(to)) {
      broken.push(`${file}: ${target} (no such file)`);
    } else if (anchor && to.endsWith(".md") && !anchorsOf(read(to)).has(anchor)) {
      broken.push(`${file}: ${target} (no heading '#${anchor}' in ${relative(root, to)})`);
    }
  }
  return broken;
}

describe("the docs' CLI commands and links", () => {
  const program = buildProgram();
  const invocations = DOCS.flatMap((file) => invocationsIn(file, read(file), program));
  const paths = [...new Map(invocations.map((inv) => [inv.path.join(" "), inv.path])).values()];

  it("find the commands the README and docs show", () => {
    const shown = paths.map((p) => p.join(" "));
    for (const want of ["aliases set", "chat", "tenants create", "keys create", "usage reconcile", "cost"]) expect(shown).toContain(want);
  });

  it("name only commands the CLI has", () => {
    const unknown = invocations.filter((inv) => !resolveCommand(program, inv.path)).map((inv) => `${inv.file}: ${inv.line.trim()}`);
    expect(unknown).toEqual([]);
  });

  it("answer --help with exit 0 and their usage, for each distinct command", async () => {
    for (const path of paths) {
      if (!resolveCommand(program, path)) continue; // reported above
      const { code, out } = await helpOf(path);
      expect({ command: path.join(" "), code, usage: out.split("\n")[0] }).toEqual({
        command: path.join(" "),
        code: 0,
        usage: expect.stringMatching(new RegExp(`^Usage: modelgate ${path.join(" ")} `)),
      });
    }
  });

  it("run through the binary the docs name (`npx modelgate` → cli/bin.mjs)", async () => {
    const pkg = JSON.parse(read("package.json")) as { bin: Record<string, string> };
    expect(pkg.bin.modelgate).toBe("cli/bin.mjs");
    const { stdout } = await promisify(execFile)(process.execPath, [join("cli", "bin.mjs"), "aliases", "set", "--help"]);
    expect(stdout).toMatch(/^Usage: modelgate aliases set /);
  });

  it("would catch a command the CLI lacks", () => {
    const md = "```sh\nnpx modelgate tenants frobnicate acme\nmodelgate --json nosuch x\nmodelgate keys list <t> | burn <t>\n```\n";
    const found = invocationsIn("example.md", md, program);
    expect(found.map((inv) => inv.path.join(" "))).toEqual(["tenants frobnicate", "nosuch", "keys list", "keys burn"]);
    expect(found.filter((inv) => !resolveCommand(program, inv.path)).map((inv) => inv.path.join(" "))).toEqual([
      "tenants frobnicate",
      "nosuch",
      "keys burn",
    ]);
  });

  it("link only files that exist, and headings that exist in them", () => {
    expect(DOCS.length).toBeGreaterThan(1);
    expect(DOCS.flatMap((file) => brokenLinks(file, read(file)))).toEqual([]);
    expect(brokenLinks("README.md", "[gone](docs/nowhere.md), [x](docs/llm.md#no-such-heading)")).toHaveLength(2);
  });
});
