// `dicomgate keys ...`: honest-broker operations on the pseudonym key database (<dataDir>/keys.sqlite).
// These print or write original identifiers on purpose, to stdout or a file the operator names; they
// never log them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveProject } from '../../deid/project.ts';
import { parseCtpLookupTable, parseMappingCsv, toMappingCsv } from '../../pseudonyms/mapping-csv.ts';
import type { PatientRecord } from '../../pseudonyms/pseudonym-store.ts';
import { SqlitePseudonymStore } from '../../pseudonyms/sqlite/sqlite-pseudonym-store.ts';
import { UsageError, type Command } from '../command.ts';

const ACTIONS = ['lookup', 'reverse', 'uid', 'export', 'import', 'import-ctp', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

function show(r: PatientRecord): string {
  const o = r.original;
  const p = r.pseudonym;
  return `original ${o.patientId}${o.issuer ? ` (issuer ${o.issuer})` : ''} -> ${p.patientId} / ${p.patientName}, date shift ${p.dateShiftDays} days\n`;
}

export const command: Command = {
  name: 'keys',
  summary: 'Honest broker: look up, export, import and delete pseudonym keys of a project',
  usage: `<action> --project <name> [args]

Actions:
  lookup --patient-id <id> [--issuer <issuer>]   original patient -> pseudonym
  reverse <pseudonymous PatientID>                pseudonym -> original patient
  uid <replacement UID>                           replacement UID -> original UID
  export <file.csv>                               write the project's mapping as CSV
  import <file.csv>                               add mappings from a CSV (existing ones win)
  import-ctp <lookup-table.properties>            add CTP lookup table entries (ptid/<original>=<pseudonym>)
  delete --patient-id <id> [--issuer <issuer>]    delete a patient's pseudonym, date shift and UIDs

The key database is <data>/keys.sqlite. Output holds original identifiers: handle it accordingly.`,
  options: {
    project: { type: 'string' },
    'patient-id': { type: 'string' },
    issuer: { type: 'string' },
  },
  allowPositionals: true,

  async run({ values, positionals }, ctx): Promise<number> {
    const [action, arg] = positionals;
    if (!ACTIONS.includes(action as Action)) throw new UsageError(`first argument must be one of ${ACTIONS.join(', ')}`);
    const projectName = values.project as string | undefined;
    if (projectName === undefined) throw new UsageError('--project is required');
    const project = resolveProject(projectName, ctx.config.projects);
    const key = () => {
      const id = values['patient-id'] as string | undefined;
      if (id === undefined) throw new UsageError(`${action} needs --patient-id`);
      return { patientId: id, issuer: (values.issuer as string | undefined) ?? '' };
    };
    const needArg = (what: string): string => {
      if (arg === undefined) throw new UsageError(`${action} needs ${what}`);
      return arg;
    };
    mkdirSync(ctx.config.dataDir, { recursive: true });
    const store = new SqlitePseudonymStore(join(ctx.config.dataDir, 'keys.sqlite'), { checkpointer: false });
    try {
      await store.migrate();
      switch (action as Action) {
        case 'lookup': {
          const r = await store.findByOriginal(project.name, key());
          if (!r) return notFound(ctx.stderr);
          ctx.stdout.write(show(r));
          return 0;
        }
        case 'reverse': {
          const r = await store.findByPseudonym(project.name, needArg('a pseudonymous PatientID'));
          if (!r) return notFound(ctx.stderr);
          ctx.stdout.write(show(r));
          return 0;
        }
        case 'uid': {
          const original = await store.findOriginalUid(project.name, needArg('a UID'));
          if (original === undefined) return notFound(ctx.stderr);
          ctx.stdout.write(`${original}\n`);
          return 0;
        }
        case 'export': {
          const records = await store.listPatients(project.name);
          writeFileSync(needArg('an output file'), toMappingCsv(records), { mode: 0o600 });
          ctx.stderr.write(`exported ${records.length} patients\n`);
          return 0;
        }
        case 'import':
        case 'import-ctp': {
          const text = readFileSync(needArg('an input file'), 'utf8');
          const rows = action === 'import' ? parseMappingCsv(text) : parseCtpLookupTable(text);
          const r = await store.importPatients(project.name, rows, project.policy);
          ctx.stderr.write(`imported ${r.imported}, unchanged ${r.unchanged}, conflicts ${r.conflicts} (existing mappings kept)\n`);
          return r.conflicts > 0 ? 1 : 0;
        }
        case 'delete': {
          const deleted = await store.deletePatient(project.name, key());
          if (!deleted) return notFound(ctx.stderr);
          ctx.stderr.write('deleted\n');
          return 0;
        }
      }
    } finally {
      await store.close();
    }
    return 2;
  },
};

function notFound(stderr: NodeJS.WritableStream): number {
  stderr.write('not found\n');
  return 1;
}
