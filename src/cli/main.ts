// CLI entry: `dicomgate <command> [options]`. Each command lives in commands/<name>.ts.
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isAppError } from '../core/errors.ts';
import { loadConfig } from '../config/load.ts';
import { GLOBAL_OPTIONS, GLOBAL_USAGE, UsageError, type Command } from './command.ts';

// Each command is a module src/cli/commands/<name>.ts exporting `command`; the list is the folder,
// so adding a command touches no central file. Modules load lazily: `dump` does not pay for HTTP.
const COMMANDS_DIR = new URL('./commands/', import.meta.url);
// .ts when run from the sources (tsx), .js when run from the build (dist/).
const EXT = import.meta.url.endsWith('.js') ? '.js' : '.ts';

function commandNames(): string[] {
  return readdirSync(COMMANDS_DIR)
    .filter((f) => f.endsWith(EXT) && !f.startsWith('_'))
    .map((f) => f.slice(0, -EXT.length))
    .sort();
}

async function loadCommand(name: string): Promise<Command | undefined> {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !commandNames().includes(name)) return undefined;
  const mod = (await import(new URL(`${name}${EXT}`, COMMANDS_DIR).href)) as { command: Command };
  return mod.command;
}

async function topHelp(): Promise<string> {
  // A command whose module fails to load is left out of the list rather than breaking --help.
  const commands = (await Promise.all(commandNames().map((n) => loadCommand(n).catch(() => undefined)))).filter((c): c is Command => c !== undefined);
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `dicomgate: de-identifying DICOM gateway and research PACS

Usage: dicomgate <command> [options]

Commands:
${lines.join('\n')}

Run "dicomgate <command> --help" for a command's options.
${GLOBAL_USAGE}
`;
}

export interface MainIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    stdout.write(await topHelp());
    return name === undefined ? 2 : 0;
  }
  const command = await loadCommand(name);
  if (!command) {
    stderr.write(`dicomgate: unknown command "${name}". Run "dicomgate --help" for the list.\n`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: command.allowPositionals,
      strict: true,
    });
    if (values.help) {
      stdout.write(`Usage: dicomgate ${command.name} ${command.usage.trimEnd()}\n\n${GLOBAL_USAGE}\n`);
      return 0;
    }
    const overrides: Record<string, unknown> = { ...(command.configOverrides?.(values) ?? {}) };
    if (values.data !== undefined) overrides.dataDir = values.data;
    const config = loadConfig({ file: values.config as string | undefined, env: io.env ?? process.env, overrides });
    return await command.run({ values, positionals }, { config, stdout, stderr });
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      stderr.write(`dicomgate ${name}: ${(e as Error).message}. Run "dicomgate ${name} --help".\n`);
      return 2;
    }
    if (isAppError(e)) {
      stderr.write(`dicomgate ${name}: ${e.message}\n`);
      return 1;
    }
    stderr.write(`dicomgate ${name}: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
