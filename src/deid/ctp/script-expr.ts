// Parses one CTP element script ("@hashuid(@UIDROOT,this)", "@always()@append(){text}",
// "@if(this,isblank){@remove()}{@keep()}") into a list of literal text and function calls, with
// CTP's lexical rules (DICOMAnonymizer.makeReplacement, FnCall): '\' escapes the next character,
// '@name(' starts a call whose arguments split on ',' outside quotes and [...]; @if and @select
// take {true}{false} clauses, @append one {clause}.

export type ExprPiece =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'call';
      readonly name: string;
      /** Raw argument text, trimmed; quotes kept (functions differ in whether they strip them). */
      readonly args: readonly string[];
      readonly then?: Expr;
      readonly else?: Expr;
    };

export type Expr = readonly ExprPiece[];

/** Functions CTP's anonymizer implements (DICOMAnonymizer.makeReplacement). */
export const CTP_FUNCTIONS = new Set([
  'contents', 'value', 'truncate', 'date', 'dateinterval', 'decrypt', 'encrypt', 'hash', 'hashname', 'hashptid',
  'hashuid', 'if', 'select', 'append', 'always', 'hashdate', 'incrementdate', 'lowercase', 'uppercase', 'modifydate',
  'initials', 'lookup', 'integer', 'param', 'quarantine', 'require', 'round', 'skip', 'time', 'process', 'call', 'pathelement',
]);

/** Not functions but results the element processing acts on; CTP passes them through as text. */
export const CTP_MARKERS = new Set(['keep', 'remove', 'empty', 'blank']);

/** Known to CTP, not run by dicomgate; an object whose script reaches one is quarantined. */
export const CTP_UNSUPPORTED: ReadonlyMap<string, string> = new Map([
  ['encrypt', 'Blowfish (CTP @encrypt) is not available in Node 20 without the OpenSSL legacy provider'],
  ['decrypt', 'Blowfish (CTP @decrypt) is not available in Node 20 without the OpenSSL legacy provider'],
  ['call', 'CTP plugin calls (@call) have no dicomgate equivalent'],
]);

export interface ParseIssue {
  readonly message: string;
}

export function parseExpr(src: string, issues: ParseIssue[] = []): Expr {
  const out: ExprPiece[] = [];
  let text = '';
  let i = 0;
  const flush = () => {
    if (text) out.push({ kind: 'text', text });
    text = '';
  };
  while (i < src.length) {
    const c = src[i++]!;
    if (c === '\\') {
      if (i < src.length) text += src[i++];
      continue;
    }
    if (c !== '@') {
      text += c;
      continue;
    }
    const open = src.indexOf('(', i);
    if (open < 0) {
      issues.push({ message: `'@' without a function call: "${src.slice(i - 1, i + 20)}"` });
      text += '@';
      continue;
    }
    const name = src.slice(i, open).replace(/\s/g, '');
    const args: string[] = [];
    let k = open;
    let kk = k;
    for (;;) {
      kk = delimiter(src, kk + 1, ',)', '(');
      if (kk < 0) break;
      args.push(src.slice(k + 1, kk).trim());
      k = kk;
      if (src[kk] === ')') break;
    }
    if (kk < 0) {
      // CTP stops interpreting the script at an unterminated call.
      issues.push({ message: `unterminated call @${name}(` });
      break;
    }
    // "@name()" has one empty argument in CTP's parser; keep the list empty for clarity.
    const cleanArgs = args.length === 1 && args[0] === '' ? [] : args;
    i = kk + 1;
    flush();
    if (name === 'if' || name === 'select' || name === 'append') {
      const t = clause(src, i);
      if (!t) {
        issues.push({ message: `@${name} needs a {clause}` });
        out.push({ kind: 'call', name, args: cleanArgs });
        i = src.length;
        continue;
      }
      i = t.end;
      let f: { body: string; end: number } | undefined;
      if (name !== 'append') {
        f = clause(src, i);
        if (f) i = f.end;
        else i = src.length; // CTP ignores the rest of the line when the false clause is missing
      }
      out.push({ kind: 'call', name, args: cleanArgs, then: parseExpr(t.body, issues), ...(f ? { else: parseExpr(f.body, issues) } : {}) });
      continue;
    }
    out.push({ kind: 'call', name, args: cleanArgs });
  }
  flush();
  return out;
}

function clause(src: string, from: number): { body: string; end: number } | undefined {
  const k = src.indexOf('{', from);
  if (k < 0) return undefined;
  const kk = delimiter(src, k + 1, '}', '{');
  if (kk < 0) return undefined;
  return { body: src.slice(k + 1, kk), end: kk + 1 };
}

// FnCall.getDelimiter: nesting of `open`, quotes and [...] brackets, escapes.
function delimiter(s: string, k: number, delims: string, open: string): number {
  let depth = 1;
  let brackets = 0;
  let quote = false;
  let escape = false;
  for (; k < s.length; k++) {
    const c = s[k]!;
    if (escape) escape = false;
    else if (c === '\\') escape = true;
    else if (quote) {
      if (c === '"') quote = false;
    } else if (c === '"') quote = true;
    else if (c === '[') brackets++;
    else if (c === ']') brackets--;
    else if (c === open) depth++;
    else if (delims.includes(c) && brackets === 0) {
      depth--;
      if (depth === 0) return k;
    }
  }
  return -1;
}

/** Every call in an expression, clauses included. */
export function* callsIn(e: Expr): Generator<Extract<ExprPiece, { kind: 'call' }>> {
  for (const p of e) {
    if (p.kind !== 'call') continue;
    yield p;
    if (p.then) yield* callsIn(p.then);
    if (p.else) yield* callsIn(p.else);
  }
}
