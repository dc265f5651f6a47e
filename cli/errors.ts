/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The API answered with an error (4xx/5xx). */
  api: 1,
  /** Bad command line: unknown option, missing argument, invalid value. */
  badArguments: 2,
  /** No usable configuration or credentials, or the endpoint could not be reached. */
  config: 3,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const argumentError = (message: string) => new CliError(message, EXIT.badArguments);
export const configError = (message: string) => new CliError(message, EXIT.config);
