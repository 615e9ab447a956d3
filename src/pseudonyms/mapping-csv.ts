// Honest-broker exchange formats: the mapping CSV (export/import) and RSNA CTP's lookup table
// (a Java properties file of `ptid/<original>=<pseudonym>` lines, used by CTP's lookup() function).
// Parse errors name the line number only: the lines hold keys.
import { AppError } from '../core/errors.ts';
import type { ImportRow, PatientRecord } from './pseudonym-store.ts';

export const MAPPING_CSV_HEADER = ['original_patient_id', 'original_issuer', 'pseudonymous_patient_id', 'pseudonymous_patient_name', 'date_shift_days'] as const;

function csvField(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replaceAll('"', '""')}"` : v;
}

export function toMappingCsv(records: readonly PatientRecord[]): string {
  const lines = [MAPPING_CSV_HEADER.join(',')];
  for (const r of records) {
    lines.push(
      [r.original.patientId, r.original.issuer, r.pseudonym.patientId, r.pseudonym.patientName, String(r.pseudonym.dateShiftDays)]
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

/** RFC 4180 records, with the 1-based line each record starts on. */
function parseCsv(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) out.push({ line: start, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else field += ch;
    i++;
  }
  if (quoted) throw new AppError('KEYS_IMPORT_INVALID', { detail: `unterminated quoted field starting on line ${start}` });
  if (field !== '' || fields.length > 0) endRecord();
  return out;
}

export function parseMappingCsv(text: string): ImportRow[] {
  const records = parseCsv(text.replace(/^\uFEFF/, ''));
  const header = records.shift();
  const col = (name: string) => header?.fields.indexOf(name) ?? -1;
  const [iId, iIssuer, iPseudo, iName, iShift] = MAPPING_CSV_HEADER.map(col);
  if (iId < 0 || iPseudo < 0) {
    throw new AppError('KEYS_IMPORT_INVALID', { detail: 'line 1: header needs original_patient_id and pseudonymous_patient_id' });
  }
  return records.map(({ line, fields }) => {
    const get = (i: number): string | undefined => (i < 0 ? undefined : fields[i]);
    const id = get(iId) ?? '';
    const pseudo = get(iPseudo) ?? '';
    if (id === '' || pseudo === '') throw new AppError('KEYS_IMPORT_INVALID', { detail: `line ${line}: empty patient id` });
    const shiftText = get(iShift);
    const shift = shiftText === undefined || shiftText === '' ? undefined : Number(shiftText);
    if (shift !== undefined && !Number.isInteger(shift)) throw new AppError('KEYS_IMPORT_INVALID', { detail: `line ${line}: date_shift_days is not an integer` });
    const name = get(iName);
    return {
      original: { patientId: id, issuer: get(iIssuer) ?? '' },
      patientId: pseudo,
      ...(name !== undefined && name !== '' ? { patientName: name } : {}),
      ...(shift !== undefined ? { dateShiftDays: shift } : {}),
    };
  });
}

// java.util.Properties escapes: \\, \=, \:, \ , \t, \n, \uXXXX.
function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : e;
  });
}

/**
 * Reads the `ptid/` entries of a CTP lookup table. Other keys (CTP tables can hold several) are ignored.
 * CTP keys patients by PatientID alone, so the issuer is ''.
 */
export function parseCtpLookupTable(text: string): ImportRow[] {
  const rows: ImportRow[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const m = /^((?:\\.|[^=:\\])*)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) throw new AppError('KEYS_IMPORT_INVALID', { detail: `line ${i + 1}: not a key=value line` });
    const key = unescapeProperty(m[1].trimEnd());
    if (!key.startsWith('ptid/')) return;
    const original = key.slice('ptid/'.length);
    const pseudo = unescapeProperty(m[2].trim());
    if (original === '' || pseudo === '') throw new AppError('KEYS_IMPORT_INVALID', { detail: `line ${i + 1}: empty patient id` });
    rows.push({ original: { patientId: original, issuer: '' }, patientId: pseudo });
  });
  return rows;
}
