// Reads a CTP DicomAnonymizer script, XML (<script> with <p>, <e>, <k>, <r>) or the older
// properties form (param.X=, set.[gggg,eeee]Name=, keep.groupXXXX=, remove.X=; '#' disables),
// into flat entries with their line numbers. Only this small, flat XML vocabulary is accepted:
// a full XML parser would be a dependency for four element names.
import { AppError } from '../../core/errors.ts';

export type ScriptEntry =
  | { readonly kind: 'param'; readonly name: string; readonly value: string; readonly line: number }
  | { readonly kind: 'element'; readonly enabled: boolean; readonly tag: string; readonly name: string; readonly script: string; readonly line: number }
  | { readonly kind: 'keep'; readonly enabled: boolean; readonly target: string; readonly line: number }
  | { readonly kind: 'remove'; readonly enabled: boolean; readonly target: string; readonly line: number };

export interface ScriptProblem {
  readonly line: number;
  readonly message: string;
}

export function readScriptFile(text: string): { entries: ScriptEntry[]; problems: ScriptProblem[] } {
  // CTP (DAScript) treats a script whose first non-blank character is '<' as XML.
  return /^\s*</.test(text) ? readXml(text) : readProperties(text);
}

const ENTITY: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITY[e] as string;
  });
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function attrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1]!] = decodeEntities(m[3] ?? m[4] ?? '');
  return out;
}

function readXml(text: string): { entries: ScriptEntry[]; problems: ScriptProblem[] } {
  const entries: ScriptEntry[] = [];
  const problems: ScriptProblem[] = [];
  const body = text.replace(/<\?xml[^>]*\?>/, (m) => ' '.repeat(m.length)).replace(/<!--[\s\S]*?-->/g, (m) => m.replace(/[^\n]/g, ' '));
  const root = /<script\b[^>]*>/.exec(body);
  const end = body.lastIndexOf('</script>');
  if (!root || end < root.index) throw new AppError('CTP_SCRIPT_INVALID', { detail: 'no <script> ... </script> root element' });
  let i = root.index + root[0].length;
  const re = /<([a-zA-Z]+)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1\s*>)/g;
  re.lastIndex = i;
  for (;;) {
    const m = re.exec(body);
    if (!m || m.index >= end) break;
    const gap = body.slice(i, m.index);
    if (gap.trim() !== '') problems.push({ line: lineAt(body, i + gap.search(/\S/)), message: 'text outside an element is ignored' });
    i = m.index + m[0].length;
    const line = lineAt(body, m.index);
    const a = attrs(m[2] ?? '');
    const content = decodeEntities(m[4] ?? '');
    const enabled = (a.en ?? 'T') === 'T';
    switch (m[1]) {
      case 'p':
        if (!a.t) problems.push({ line, message: '<p> without t attribute' });
        else entries.push({ kind: 'param', name: a.t, value: content, line });
        break;
      case 'e':
        if (!a.t || !/^[0-9A-Fa-f]{8}$/.test(a.t)) problems.push({ line, message: `<e> with a bad t attribute "${a.t ?? ''}" (8 hex digits expected)` });
        else entries.push({ kind: 'element', enabled, tag: a.t, name: a.n ?? '', script: content.trim(), line });
        break;
      case 'k':
        entries.push({ kind: 'keep', enabled, target: a.t ?? '', line });
        break;
      case 'r':
        entries.push({ kind: 'remove', enabled, target: a.t ?? '', line });
        break;
      default:
        problems.push({ line, message: `unknown element <${m[1]}> ignored` });
    }
  }
  const rest = body.slice(i, end);
  if (rest.trim() !== '') problems.push({ line: lineAt(body, i + rest.search(/\S/)), message: 'unparsed text before </script>' });
  return { entries, problems };
}

function readProperties(text: string): { entries: ScriptEntry[]; problems: ScriptProblem[] } {
  const entries: ScriptEntry[] = [];
  const problems: ScriptProblem[] = [];
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = idx + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('!')) return;
    const disabled = s.startsWith('#');
    const body = disabled ? s.slice(1) : s;
    const eq = body.indexOf('=');
    if (eq < 0) {
      if (!disabled) problems.push({ line, message: 'not a key=value line' });
      return;
    }
    const left = body.slice(0, eq).trim();
    const right = body.slice(eq + 1);
    if (left.startsWith('param.')) {
      if (!disabled) entries.push({ kind: 'param', name: left.slice(6), value: right, line });
    } else if (left.startsWith('set.')) {
      const m = /^set\.\[([^\]]*)\](.*)$/.exec(left);
      const hex = m?.[1]?.replace(/[^0-9a-fA-F]/g, '') ?? '';
      if (!m || hex.length !== 8) problems.push({ line, message: 'set.[gggg,eeee] expected' });
      else entries.push({ kind: 'element', enabled: !disabled, tag: hex, name: m[2]!.trim(), script: right.trim(), line });
    } else if (left.startsWith('keep.')) {
      const t = left.slice(5);
      entries.push({ kind: 'keep', enabled: !disabled, target: t.startsWith('group') ? t.slice(5).trim().padStart(4, '0') : t, line });
    } else if (left.startsWith('remove.')) {
      entries.push({ kind: 'remove', enabled: !disabled, target: left.slice(7).trim(), line });
    } else if (!disabled) {
      problems.push({ line, message: `unknown key ${left.slice(0, 40)}` });
    }
  });
  return { entries, problems };
}
