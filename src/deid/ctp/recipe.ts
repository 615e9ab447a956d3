// A CTP DicomAnonymizer script imported into a typed recipe: what dicomgate stores as a project
// recipe and interprets (interpret.ts). Import reports, with their script line, every construct it
// cannot honour, so a site sees them before the first object goes through.
import { AppError } from '../../core/errors.ts';
import { lookup as dictLookup } from '../../dicom/dictionary.ts';
import { formatTag } from '../../dicom/tag.ts';
import { callsIn, CTP_FUNCTIONS, CTP_MARKERS, CTP_UNSUPPORTED, parseExpr, type Expr, type ParseIssue } from './script-expr.ts';
import { readScriptFile, type ScriptProblem } from './script-file.ts';

export interface CtpElementRule {
  readonly tag: number;
  /** The script's name attribute (CTP also resolves private element names through it). */
  readonly name: string;
  readonly source: string;
  readonly expr: Expr;
  readonly line: number;
}

export interface CtpRecipe {
  readonly kind: 'ctp';
  readonly params: ReadonlyMap<string, string>;
  /** Enabled element scripts by tag (en="F" elements are not scripts, as in CTP). */
  readonly elements: ReadonlyMap<number, CtpElementRule>;
  /** Names given to private elements in the script, usable in function arguments. */
  readonly privateNames: ReadonlyMap<string, number>;
  readonly keepGroups: ReadonlySet<number>;
  readonly keepSafePrivate: boolean;
  readonly removePrivateGroups: boolean;
  readonly removeUnspecified: boolean;
  readonly removeOverlays: boolean;
  readonly removeCurves: boolean;
}

export interface ImportReport {
  /** Constructs dicomgate cannot run; objects reaching them are quarantined. */
  readonly unsupported: readonly ScriptProblem[];
  /** Accepted but worth a look (undefined parameters, sequences CTP would leave unprocessed, ...). */
  readonly warnings: readonly ScriptProblem[];
}

export function importCtpScript(text: string): { recipe: CtpRecipe; report: ImportReport } {
  const { entries, problems } = readScriptFile(text);
  const unsupported: ScriptProblem[] = [];
  const warnings: ScriptProblem[] = [...problems];
  const params = new Map<string, string>();
  const elements = new Map<number, CtpElementRule>();
  const privateNames = new Map<string, number>();
  const keepGroups = new Set<number>();
  const flags = { keepSafePrivate: false, removePrivateGroups: false, removeUnspecified: false, removeOverlays: false, removeCurves: false };

  for (const e of entries) {
    if (e.kind === 'param') params.set(e.name, e.value);
    else if (e.kind === 'keep') {
      if (!e.enabled) continue;
      if (e.target.startsWith('safe')) flags.keepSafePrivate = true;
      else if (/^[0-9A-Fa-f]{1,4}$/.test(e.target)) keepGroups.add(parseInt(e.target, 16));
      else unsupported.push({ line: e.line, message: `keep target "${e.target}" is neither a group nor safeprivateelements` });
    } else if (e.kind === 'remove') {
      if (!e.enabled) continue;
      const key = ({ privategroups: 'removePrivateGroups', unspecifiedelements: 'removeUnspecified', overlays: 'removeOverlays', curves: 'removeCurves' } as const)[e.target];
      if (key) flags[key] = true;
      else unsupported.push({ line: e.line, message: `remove target "${e.target}" is unknown` });
    }
  }

  for (const e of entries) {
    if (e.kind !== 'element' || !e.enabled) continue;
    const tag = parseInt(e.tag, 16) >>> 0;
    const issues: ParseIssue[] = [];
    const expr = parseExpr(e.script, issues);
    for (const i of issues) unsupported.push({ line: e.line, message: `${formatTag(tag)}: ${i.message}` });
    for (const call of callsIn(expr)) {
      if (CTP_UNSUPPORTED.has(call.name)) unsupported.push({ line: e.line, message: `${formatTag(tag)}: @${call.name}: ${CTP_UNSUPPORTED.get(call.name)}` });
      else if (!CTP_FUNCTIONS.has(call.name) && !CTP_MARKERS.has(call.name)) unsupported.push({ line: e.line, message: `${formatTag(tag)}: unknown function @${call.name}` });
      for (const a of call.args) {
        const p = /^[@$]([A-Za-z_][\w]*)$/.exec(a.trim());
        if (p && !params.has(p[1]!)) warnings.push({ line: e.line, message: `${formatTag(tag)}: parameter @${p[1]} is not defined (CTP would write "null")` });
      }
    }
    const vr = dictLookup(tag)?.vr;
    const names = new Set([...callsIn(expr)].map((c) => c.name));
    if (vr === 'SQ' && tag !== 0x00120064 && !names.has('process') && !/@remove\(\)|@empty\(\)/.test(e.script)) {
      warnings.push({ line: e.line, message: `${formatTag(tag)} is a sequence without @process(): CTP leaves its items unprocessed` });
    }
    if (elements.has(tag)) warnings.push({ line: e.line, message: `${formatTag(tag)} scripted twice; the later line wins` });
    elements.set(tag, { tag, name: e.name, source: e.script, expr, line: e.line });
    if ((tag >>> 16) & 1 && e.name !== '') privateNames.set(e.name, tag);
  }
  if (entries.length === 0) throw new AppError('CTP_SCRIPT_INVALID', { detail: 'the script holds no parameter, element, keep or remove entry' });
  return {
    recipe: Object.freeze({ kind: 'ctp' as const, params, elements, privateNames, keepGroups, ...flags }),
    report: { unsupported, warnings },
  };
}
