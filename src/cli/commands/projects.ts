// `dicomgate projects import-ctp <script>`: turns a CTP DicomAnonymizer script into a project
// entry for the configuration, after checking it (and its lookup table) can be run. Prints every
// construct that cannot be imported with its script line; exits 1 if there is one, unless
// --allow-unsupported (objects reaching such a construct are then quarantined).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseLookupTable } from '../../deid/ctp/ctp-keys.ts';
import { importCtpScript } from '../../deid/ctp/recipe.ts';
import { AppError } from '../../core/errors.ts';
import { UsageError, type Command } from '../command.ts';

export const command: Command = {
  name: 'projects',
  summary: 'de-identification projects: import a CTP anonymizer script',
  usage: `import-ctp <script> [--lookup <table>] [--name <project>] [--strict-sequences] [--out <file>]

  Reads a CTP DicomAnonymizer script (XML or properties form), reports what cannot be imported
  (with line numbers) and prints a project entry for the "projects" section of the configuration.

Options:
  --lookup <table>      CTP lookup table (keyType/value=replacement, properties or CSV) for @lookup
  --name <project>      project name (default: the script's file name)
  --strict-sequences    reproduce CTP exactly: sequences without @process() are left unprocessed
                        (default: the script is applied inside every sequence, and they are reported)
  --allow-unsupported   write the entry even if some constructs cannot run (those objects are quarantined)
  --out <file>          write the entry to a JSON file instead of standard output

Example:
  dicomgate projects import-ctp DicomAnonymizer.script --lookup LookupTable.properties --name trial7`,
  options: {
    lookup: { type: 'string' },
    name: { type: 'string' },
    'strict-sequences': { type: 'boolean' },
    'allow-unsupported': { type: 'boolean' },
    out: { type: 'string' },
  },
  allowPositionals: true,
  async run(args, ctx) {
    const [sub, file, ...extra] = args.positionals;
    if (sub !== 'import-ctp') throw new UsageError('expected: projects import-ctp <script>');
    if (file === undefined || extra.length > 0) throw new UsageError('import-ctp takes exactly one script file');
    const v = args.values;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new AppError('IMPORT_UNREADABLE', { detail: `cannot read ${basename(file)}`, cause: e });
    }
    const { recipe, report } = importCtpScript(text);
    let lookupEntries = 0;
    if (typeof v.lookup === 'string') lookupEntries = parseLookupTable(readFileSync(v.lookup, 'utf8')).size;
    for (const p of report.unsupported) ctx.stderr.write(`${basename(file)}:${p.line}: unsupported: ${p.message}\n`);
    for (const p of report.warnings) ctx.stderr.write(`${basename(file)}:${p.line}: warning: ${p.message}\n`);
    ctx.stderr.write(
      `${recipe.elements.size} element scripts, ${recipe.params.size} parameters, keep groups [${[...recipe.keepGroups].map((g) => g.toString(16).padStart(4, '0')).join(' ')}]` +
        `${recipe.removePrivateGroups ? ', remove private groups' : ''}${recipe.removeUnspecified ? ', remove unspecified elements' : ''}` +
        `${typeof v.lookup === 'string' ? `, lookup table ${lookupEntries} entries` : ''}\n`,
    );
    if (report.unsupported.length > 0 && !v['allow-unsupported']) {
      ctx.stderr.write(`dicomgate projects: ${report.unsupported.length} unsupported construct(s); fix the script or pass --allow-unsupported\n`);
      return 1;
    }
    const name = (v.name as string | undefined) ?? basename(file).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]/g, '-');
    const entry = {
      [name]: {
        ctp: {
          script: resolve(file),
          ...(typeof v.lookup === 'string' ? { lookup: resolve(v.lookup) } : {}),
          strictSequences: v['strict-sequences'] === true,
        },
      },
    };
    const json = `${JSON.stringify(entry, null, 2)}\n`;
    if (typeof v.out === 'string') writeFileSync(v.out, json);
    else ctx.stdout.write(json);
    return 0;
  },
};
