import { Command, CommanderError, Option } from "commander";
import { registerAliases } from "./commands/aliases";
import { registerBatches } from "./commands/batches";
import { registerChat } from "./commands/chat";
import { registerCost } from "./commands/cost";
import { registerInvoices } from "./commands/invoices";
import { registerInvoke } from "./commands/invoke";
import { registerKeys } from "./commands/keys";
import { registerModels } from "./commands/models";
import { registerPrices } from "./commands/prices";
import { registerTenants } from "./commands/tenants";
import { registerUsage } from "./commands/usage";
import { CliError, EXIT } from "./errors";

export function buildProgram(): Command {
  const program = new Command("modelgate")
    .description("operate a modelgate platform: tenants, API keys, models and aliases, usage, and model calls (local or deployed)")
    .addOption(
      new Option("--data-dir <dir>", "local platform data directory; its credentials.json gives URL and admin credentials")
        .env("MODELGATE_DATA_DIR")
        .default(".modelgate"),
    )
    .addOption(
      new Option("--endpoint <url>", "deployed API URL; signs with the AWS credential chain and AWS_REGION").env("MODELGATE_ENDPOINT"),
    )
    .option("--json", "print one JSON document on stdout (for scripts)")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      // Commander's own messages ("error: unknown option …") are already one line.
      writeErr: (s) => process.stderr.write(s),
    });
  registerTenants(program);
  registerKeys(program);
  registerInvoke(program);
  registerChat(program);
  registerUsage(program);
  registerModels(program);
  registerAliases(program);
  registerPrices(program);
  registerInvoices(program);
  registerCost(program);
  registerBatches(program);
  // Every subcommand reports usage errors the same way, through the override below.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs the CLI; returns the exit code (never throws). */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; commander already printed its message.
      // `--help` is not a failure; help shown because a subcommand is missing is.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.ok;
      return EXIT.badArguments;
    }
    if (err instanceof CliError) {
      process.stderr.write(`modelgate: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`modelgate: ${(err as Error).message ?? String(err)}\n`);
    return EXIT.config;
  }
}
