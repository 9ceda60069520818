/**
 * Command-line parsing shared by the subcommands.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A wrong invocation: the dispatcher prints usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A bad value in an otherwise well-formed invocation (a malformed request,
 * an unknown method, a bad address): exit 2 with one line, since the usage
 * would not say more than the message.
 */
export class InputError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** `node:util` parseArgs in strict mode, its errors turned into {@link UsageError}. */
export function parseFlags<T extends ParseArgsConfig["options"]>(
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
