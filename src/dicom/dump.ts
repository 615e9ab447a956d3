// dcmdump-like text listing (the CLI's `dicomgate dump`): one line per element, items indented,
// "(gggg,eeee) VR value  # length, VM Keyword". Values are truncated; pixel data is never decoded.
import type { Tag } from './tag.ts';
import { formatTag, isPrivateTag } from './tag.ts';
import { lookup } from './dictionary.ts';
import { binarySize, isStringVR } from './vr.ts';
import type { Dataset } from './dataset.ts';
import { UNDEFINED_LENGTH } from './dataset.ts';
import type { DicomFile } from './part10.ts';
import { transferSyntax, uidName } from './uids.ts';

export interface DumpOptions {
  /** Characters of a value shown before "..."; default 64. */
  maxValueLength?: number;
}

const VALUE_COLUMN = 40;

export function dump(file: DicomFile | Dataset, opts: DumpOptions = {}): string {
  const lines: string[] = [];
  if ('dataset' in file) {
    lines.push('# Dicom-File-Format', '');
    lines.push(`# Dicom-Meta-Information-Header${file.hadMeta ? '' : ' (synthesized: the file has none)'}`);
    dumpDataset(file.meta, 0, lines, opts);
    lines.push('', '# Dicom-Data-Set', `# Used TransferSyntax: ${transferSyntax(file.transferSyntaxUID).name}`);
    dumpDataset(file.dataset, 0, lines, opts);
  } else {
    dumpDataset(file, 0, lines, opts);
  }
  return lines.join('\n') + '\n';
}

function dumpDataset(ds: Dataset, depth: number, lines: string[], opts: DumpOptions): void {
  const indent = '  '.repeat(depth);
  for (const el of ds._els) {
    const t = el.tag;
    const keyword = lookup(t)?.keyword ?? (isPrivateTag(t) ? 'PrivateTag' : 'UnknownTag');
    const items = ds.items(t);
    const undefinedLength = el.vlen === UNDEFINED_LENGTH || el.start < 0;
    const lenText = undefinedLength && (items || el.frags) ? 'u/l' : String(ds.bytes(t)?.length ?? el.vlen);
    if (items) {
      lines.push(line(indent, t, el.vr, `(Sequence with ${undefinedLength ? 'undefined' : 'explicit'} length #=${items.length})`, lenText, '1', keyword));
      for (const it of items) {
        lines.push(`${indent}  (FFFE,E000) na (Item #=${it.tags().length})`);
        dumpDataset(it, depth + 2, lines, opts);
      }
      continue;
    }
    const frags = ds.fragments(t);
    if (frags) {
      lines.push(line(indent, t, el.vr, `(PixelSequence #=${frags.length})`, lenText, '1', keyword));
      frags.forEach((f, i) => lines.push(`${indent}  (FFFE,E000) pi (${i === 0 ? 'offset table' : 'fragment'}, ${f.length} bytes)`));
      continue;
    }
    const { text, vm } = valueText(ds, t, opts.maxValueLength ?? 64);
    lines.push(line(indent, t, el.vr, text, lenText, String(vm), keyword));
  }
}

function line(indent: string, t: Tag, vr: string, value: string, len: string, vm: string, keyword: string): string {
  const left = `${indent}${formatTag(t)} ${vr} ${value}`;
  return `${left.padEnd(VALUE_COLUMN + indent.length)} # ${len.padStart(3)}, ${vm} ${keyword}`;
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

function valueText(ds: Dataset, t: Tag, max: number): { text: string; vm: number } {
  const vr = ds.vr(t)!;
  const b = ds.bytes(t);
  if (!b || b.length === 0) return { text: '(no value available)', vm: 0 };
  if (isStringVR(vr)) {
    const values = ds.strings(t);
    const joined = values.join('\\').replace(/[\r\n]/g, ' ');
    const name = vr === 'UI' && values.length === 1 ? uidName(values[0]) : undefined;
    return { text: name ? `=${name.replace(/ /g, '')}` : `[${truncate(joined, max)}]`, vm: values.length };
  }
  if (binarySize(vr) > 0 && vr[0] !== 'O') {
    const n = ds.numbers(t);
    const shown = vr === 'AT' ? n.map((x) => formatTag(x)) : n.map(String);
    return { text: truncate(shown.join('\\'), max), vm: n.length };
  }
  const hex: string[] = [];
  for (let i = 0; i < Math.min(b.length, Math.ceil(max / 3)); i++) hex.push(b[i].toString(16).padStart(2, '0'));
  return { text: hex.join('\\') + (b.length > hex.length ? '...' : ''), vm: 1 };
}
