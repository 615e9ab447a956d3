// Export path templates: literal text with {Keyword}, {Keyword:03} (integer zero-padded to 3) or
// {(0010,0020)} / {00100020} placeholders, '/' separating folders. Compiled once (config time) so a
// bad template is reported at startup with its position; rendering never fails.
import { AppError } from '../core/errors.ts';
import type { Dataset } from '../dicom/dataset.ts';
import { parseTag, type Tag } from '../dicom/tag.ts';
import { sanitizeComponent, type SanitizeOptions } from './sanitize-path.ts';

type Piece = { readonly text: string } | { readonly tag: Tag; readonly pad: number | undefined; readonly source: string };

export interface PathTemplate {
  readonly source: string;
  /** One piece list per path component (between '/'). */
  readonly components: readonly (readonly Piece[])[];
}

const PLACEHOLDER = /^([A-Za-z][A-Za-z0-9]*|\(?[0-9A-Fa-f]{4},?[0-9A-Fa-f]{4}\)?)(?::(0\d{1,2}))?$/;

export function compileTemplate(source: string): PathTemplate {
  const bad = (pos: number, why: string) => new AppError('EXPORT_TEMPLATE_INVALID', { detail: `${why} at position ${pos}` });
  if (source.trim() === '') throw bad(0, 'empty template');
  if (source.startsWith('/') || source.includes('\\')) throw bad(0, "template must be relative and use '/'");
  const components: Piece[][] = [[]];
  let i = 0;
  let text = '';
  const flush = () => {
    if (text) components[components.length - 1]!.push({ text });
    text = '';
  };
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '}') throw bad(i, "unmatched '}'");
    if (ch === '/') {
      flush();
      components.push([]);
      i++;
      continue;
    }
    if (ch !== '{') {
      text += ch;
      i++;
      continue;
    }
    const end = source.indexOf('}', i);
    if (end < 0) throw bad(i, "unclosed '{'");
    const inner = source.slice(i + 1, end);
    const m = PLACEHOLDER.exec(inner);
    if (!m) throw bad(i, `placeholder {${inner}} is not Keyword, Keyword:0N or a tag`);
    let t: Tag;
    try {
      t = parseTag(m[1]!);
    } catch {
      throw bad(i, `unknown attribute ${m[1]}`);
    }
    flush();
    components[components.length - 1]!.push({ tag: t, pad: m[2] === undefined ? undefined : Number(m[2]), source: inner });
    i = end + 1;
  }
  flush();
  if (components.some((c) => c.length === 0)) throw bad(0, 'empty path component');
  return Object.freeze({ source, components });
}

export interface RenderOptions extends SanitizeOptions {
  /** Stands for an absent or empty attribute. */
  readonly missing?: string;
}

/** The relative path, every component sanitised; placeholders filled from the dataset's first values. */
export function renderTemplate(t: PathTemplate, ds: Dataset, opts: RenderOptions = {}): string {
  const missing = opts.missing ?? 'unknown';
  return t.components
    .map((pieces) => {
      const raw = pieces.map((p) => ('text' in p ? p.text : value(ds, p.tag, p.pad) ?? missing)).join('');
      return sanitizeComponent(raw, opts);
    })
    .join('/');
}

function value(ds: Dataset, t: Tag, pad: number | undefined): string | undefined {
  const v = ds.string(t)?.trim();
  if (!v) return undefined;
  // Zero-pad integers only ("{SeriesNumber:03}"); other text stays as it is.
  if (pad !== undefined && /^[+-]?\d+$/.test(v)) {
    const n = Number(v);
    return (n < 0 ? '-' : '') + String(Math.abs(n)).padStart(pad, '0');
  }
  return v;
}
