// CLI entry: `dicomgate <command> [options]`. Each command lives in commands/<name>.ts.
import { parseArgs } from 'node:util';
import { isAppError } from '../core/errors.ts';
import { loadConfig } from '../config/load.ts';
import { GLOBAL_OPTIONS, GLOBAL_USAGE, UsageError, type Command } from './command.ts';

// Loaded lazily so `dicomgate dump` does not pay for the HTTP server's imports.
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  serve: () => import('./commands/serve.ts'),
  import: () => import('./commands/import.ts'),
  dump: () => import('./commands/dump.ts'),
  deid: () => import('./commands/deid.ts'),
};

const SUMMARIES: Record<string, string> = {
  serve: 'run the DICOM and HTTP servers',
  import: 'import DICOM files, folders or ZIPs into the archive',
  dump: 'print a DICOM file in human-readable form (like dcmdump)',
  deid: 'de-identify files, folders or ZIPs into an output folder',
};

function topHelp(): string {
  const width = Math.max(...Object.keys(SUMMARIES).map((n) => n.length));
  const lines = Object.keys(COMMANDS).map((n) => `  ${n.padEnd(width)}  ${SUMMARIES[n] ?? ''}`);
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
    stdout.write(topHelp());
    return name === undefined ? 2 : 0;
  }
  const loader = COMMANDS[name];
  if (!loader) {
    stderr.write(`dicomgate: unknown command "${name}". Run "dicomgate --help" for the list.\n`);
    return 2;
  }
  let command: Command;
  try {
    ({ command } = await loader());
  } catch (e) {
    stderr.write(`dicomgate: command "${name}" is not available in this build (${(e as Error).message})\n`);
    return 1;
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
