// The contract every CLI command module fulfils: `export const command: Command`.
import type { ParseArgsConfig } from 'node:util';
import type { ResolvedConfig } from '../config/schema.ts';

export interface CommandContext {
  config: ResolvedConfig;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface CommandArgs {
  values: Record<string, unknown>;
  positionals: string[];
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The --help text after the generated "Usage:" line: arguments, options, examples. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals: boolean;
  /** Maps this command's flags onto config paths (flags override the file). */
  configOverrides?: (values: Record<string, unknown>) => Record<string, unknown>;
  run(args: CommandArgs, ctx: CommandContext): Promise<number>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  config: { type: 'string' },
  data: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const GLOBAL_USAGE = `Global options:
  --config <file>   configuration file (JSON or YAML; see docs/configuration.md)
  --data <dir>      data folder: index, blobs, key database (default ./data)
  -h, --help        show help`;

/** Parses an integer flag, accepting 0 (port 0 picks a free port). */
export function intFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got "${String(v)}"`);
  return n;
}

/** A command-line mistake: printed as one line with the fix, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
