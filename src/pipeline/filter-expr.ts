// Filter expressions of pipeline stages, compiled once from the configuration:
//   Modality in [CT, RTSTRUCT]          SeriesDescription matches /^PLAN/i
//   CalledAE == RESEARCH_IN             not (ImageType contains LOCALIZER)
//   (0008,103E) exists and Modality != SR
// Attributes are PS3.6 keywords or tags (first-level elements); CallingAE, CalledAE and Source
// come from the intake. A comparison is true when any value of a multi-valued attribute matches.
import { AppError } from '../core/errors.ts';
import type { Dataset } from '../dicom/dataset.ts';
import { parseTag, type Tag } from '../dicom/tag.ts';

export interface FilterContext {
  readonly callingAe?: string;
  readonly calledAe?: string;
  /** Intake kind: 'dimse', 'stow', 'upload', 'folder'. */
  readonly source?: string;
}

export type FilterPredicate = (ds: Dataset, ctx: FilterContext) => boolean;

const INTAKE_KEYS = { CallingAE: 'callingAe', CalledAE: 'calledAe', Source: 'source' } as const;

type Tok = { t: 'word' | 'str' | 'regex' | 'op'; v: string; pos: number; flags?: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const bad = (why: string) => new AppError('PIPELINE_CONFIG_INVALID', { detail: `filter "${src}": ${why} at position ${i}` });
  while (i < src.length) {
    const c = src[i]!;
    const tagText = /^\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\)/.exec(src.slice(i));
    if (/\s/.test(c)) {
      i++;
    } else if (tagText) {
      out.push({ t: 'word', v: tagText[0], pos: i });
      i += tagText[0].length;
    } else if ('()[],'.includes(c)) {
      out.push({ t: 'op', v: c, pos: i++ });
    } else if (c === '=' || c === '!') {
      if (src[i + 1] !== '=') throw bad(`expected ${c}=`);
      out.push({ t: 'op', v: `${c}=`, pos: i });
      i += 2;
    } else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw bad('unterminated string');
      out.push({ t: 'str', v: src.slice(i + 1, end), pos: i });
      i = end + 1;
    } else if (c === '/') {
      let j = i + 1;
      let body = '';
      while (j < src.length && src[j] !== '/') {
        if (src[j] === '\\' && j + 1 < src.length) body += src[j++];
        body += src[j++];
      }
      if (j >= src.length) throw bad('unterminated /regex/');
      const flags = /^[imsu]*/.exec(src.slice(j + 1))![0];
      out.push({ t: 'regex', v: body, flags, pos: i });
      i = j + 1 + flags.length;
    } else {
      const m = /^[^\s()[\],=!"']+/.exec(src.slice(i))!;
      out.push({ t: 'word', v: m[0], pos: i });
      i += m[0].length;
    }
  }
  return out;
}

export function compileFilter(src: string): FilterPredicate {
  const toks = tokenize(src);
  let k = 0;
  const bad = (why: string) => new AppError('PIPELINE_CONFIG_INVALID', { detail: `filter "${src}": ${why} at position ${toks[k]?.pos ?? src.length}` });
  const peekWord = (w: string) => toks[k]?.t === 'word' && toks[k]!.v.toLowerCase() === w;
  const expectOp = (v: string) => {
    if (toks[k]?.t !== 'op' || toks[k]!.v !== v) throw bad(`expected "${v}"`);
    k++;
  };
  const value = (): string => {
    const t = toks[k];
    if (!t || (t.t !== 'word' && t.t !== 'str')) throw bad('expected a value');
    k++;
    return t.v;
  };

  const or = (): FilterPredicate => {
    let left = and();
    while (peekWord('or')) {
      k++;
      const l = left;
      const r = and();
      left = (ds, c) => l(ds, c) || r(ds, c);
    }
    return left;
  };
  const and = (): FilterPredicate => {
    let left = not();
    while (peekWord('and')) {
      k++;
      const l = left;
      const r = not();
      left = (ds, c) => l(ds, c) && r(ds, c);
    }
    return left;
  };
  const not = (): FilterPredicate => {
    if (peekWord('not')) {
      k++;
      const inner = not();
      return (ds, c) => !inner(ds, c);
    }
    if (toks[k]?.t === 'op' && toks[k]!.v === '(') {
      k++;
      const inner = or();
      expectOp(')');
      return inner;
    }
    return comparison();
  };
  const comparison = (): FilterPredicate => {
    const t = toks[k];
    if (!t || t.t !== 'word') throw bad('expected an attribute');
    k++;
    const get = accessor(t.v, bad);
    const op = toks[k];
    if (!op) throw bad('expected an operator');
    if (op.t === 'op' && (op.v === '==' || op.v === '!=')) {
      k++;
      const v = value();
      return op.v === '==' ? (ds, c) => get(ds, c).includes(v) : (ds, c) => !get(ds, c).includes(v);
    }
    const word = op.t === 'word' ? op.v.toLowerCase() : '';
    k++;
    if (word === 'in') {
      expectOp('[');
      const set = new Set<string>([value()]);
      while (toks[k]?.t === 'op' && toks[k]!.v === ',') {
        k++;
        set.add(value());
      }
      expectOp(']');
      return (ds, c) => get(ds, c).some((v) => set.has(v));
    }
    if (word === 'matches') {
      const r = toks[k];
      if (r?.t !== 'regex') throw bad('expected /regex/');
      k++;
      let re: RegExp;
      try {
        re = new RegExp(r.v, r.flags);
      } catch {
        throw bad('invalid regular expression');
      }
      return (ds, c) => get(ds, c).some((v) => re.test(v));
    }
    if (word === 'contains') {
      const v = value();
      return (ds, c) => get(ds, c).some((x) => x.includes(v));
    }
    if (word === 'exists') return (ds, c) => get(ds, c).length > 0;
    k--;
    throw bad('expected ==, !=, in, matches, contains or exists');
  };

  const p = or();
  if (k < toks.length) throw bad('unexpected text');
  return p;
}

function accessor(name: string, bad: (why: string) => AppError): (ds: Dataset, c: FilterContext) => string[] {
  if (Object.hasOwn(INTAKE_KEYS, name)) {
    const key = INTAKE_KEYS[name as keyof typeof INTAKE_KEYS];
    return (_ds, c) => (c[key] === undefined ? [] : [c[key]!]);
  }
  let t: Tag;
  try {
    t = parseTag(name);
  } catch {
    throw bad(`unknown attribute ${name}`);
  }
  return (ds) => ds.strings(t).filter((v) => v !== '');
}
