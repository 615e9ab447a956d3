import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.ts';
import { dump } from '../../dicom/dump.ts';
import { readPart10 } from '../../dicom/part10.ts';
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'dump',
  summary: 'print DICOM files in human-readable form (like dcmdump)',
  usage: `<file>...

Prints every element of each file: tag, VR, value, keyword; sequence items indented.
Exits 1 if a file cannot be read or is not well-formed DICOM (the message names the offset).`,
  options: {},
  allowPositionals: true,
  async run({ positionals }, ctx) {
    if (positionals.length === 0) {
      ctx.stderr.write('dicomgate dump: give at least one file. Run "dicomgate dump --help".\n');
      return 2;
    }
    let failed = 0;
    for (const path of positionals) {
      try {
        let buf: Buffer;
        try {
          buf = readFileSync(path);
        } catch (cause) {
          throw new AppError('IMPORT_UNREADABLE', { detail: `${path}: ${(cause as NodeJS.ErrnoException).code ?? 'cannot read'}`, cause });
        }
        if (positionals.length > 1) ctx.stdout.write(`# ${path}\n`);
        ctx.stdout.write(dump(readPart10(buf)) + '\n');
      } catch (e) {
        failed++;
        ctx.stderr.write(`dicomgate dump: ${path}: ${(e as Error).message}\n`);
      }
    }
    return failed > 0 ? 1 : 0;
  },
};
