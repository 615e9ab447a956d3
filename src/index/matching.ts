// The matching engine shared by C-FIND, QIDO-RS and the REST find: a typed query becomes one SQL
// statement over the level tables. Matching follows PS3.4 C.2.2.2: single value, universal (empty
// or "*"), wildcard (* and ?), range (DA/TM: A-B, -B, A-), list of values ("\"-separated; PS3.4
// allows it for UIDs, and like Orthanc we accept it for any attribute). Keys may name attributes of
// the query level, of its ancestors (a study query on PatientName) or of its descendants (a study
// query on Modality: matched with EXISTS over the study's series).
import { AppError } from '../core/errors.ts';
import {
  DERIVED_TAGS, MODALITIES_COLUMN, foldCase, foldedColumn, isDerived, mainTagsAt, resolveKey,
  type DerivedTag, type MainTag,
} from './main-tags.ts';
import type { ProjectScope } from './archive-index.ts';
import { LEVELS, type Level } from './resource-ids.ts';
import type { Dialect, PatternToken } from './sql/dialect.ts';
import { TABLES, levelIndex } from './sql/tables.ts';

export interface MatchQuery {
  level: Level;
  /** Keyword or tag ("PatientName", "00100010", "(0010,0010)") → DICOM matching value. */
  keys?: Readonly<Record<string, string>>;
  /** Derived attributes to compute (counts, ModalitiesInStudy); main tags are always returned. */
  returnKeys?: readonly string[];
  /** Restrict to the children (at any depth) of this resource, e.g. QIDO /studies/{uid}/series. */
  within?: { level: Level; id: string };
  limit?: number;
  offset?: number;
  /** PN matching ignores case and accents (Orthanc's CaseSensitivePN=false). */
  caseInsensitivePN?: boolean;
  /** QIDO fuzzymatching: accepted; treated as case-insensitive PN matching. */
  fuzzy?: boolean;
  /** Only resources holding data of these projects (the reader's access list); absent: all. */
  scope?: ProjectScope;
  /** Orthanc /tools/find Labels + LabelsConstraint (default All). */
  labels?: { labels: readonly string[]; constraint: 'All' | 'Any' | 'None' };
  /**
   * Orthanc's OrderBy (DicomTag only): indexed main tags of the query level or its ancestors, in
   * priority order. Absent values (NULL) sort first ascending, last descending, on both backends;
   * text compares byte by byte. The resource's pk breaks ties, so Limit/offset pages stay stable.
   */
  orderBy?: readonly { key: string; direction: 'asc' | 'desc' }[];
}

export interface QueryMatch {
  level: Level;
  /** Orthanc id of the matching resource. */
  id: string;
  parentId: string | undefined;
  /** Keyword → value ('' for present but empty, null for absent) for the level and its ancestors. */
  tags: Record<string, string | null>;
}

export interface QueryPage {
  matches: QueryMatch[];
  /** More matches exist after this page. */
  hasMore: boolean;
  /** Keys the index does not keep; not applied (callers may filter on them from the files). */
  ignoredKeys: string[];
}

/** What a matching value asks for. */
export type MatchSpec =
  | { kind: 'universal' }
  | { kind: 'single'; value: string }
  | { kind: 'wildcard'; pattern: PatternToken[] }
  | { kind: 'range'; from?: string; to?: string }
  | { kind: 'list'; items: MatchSpec[] };

const DA = /^\d{8}$/;
const TM = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;

/** Classifies a matching value for an attribute of the given VR (PS3.4 C.2.2.2). */
export function parseMatchValue(value: string, vr: string, keyword = '?'): MatchSpec {
  const v = value.trim();
  if (v === '' || v === '*') return { kind: 'universal' };
  if (v.includes('\\')) {
    const items = v.split('\\').map((x) => parseMatchValue(x, vr, keyword));
    return items.some((i) => i.kind === 'universal') ? { kind: 'universal' } : { kind: 'list', items };
  }
  if ((vr === 'DA' || vr === 'TM') && v.includes('-')) {
    const [from, to, extra] = v.split('-');
    const ok = vr === 'DA' ? DA : TM;
    if (extra !== undefined || (from === '' && to === '') || (from !== '' && !ok.test(from)) || (to !== '' && !ok.test(to))) {
      throw new AppError('QUERY_INVALID', { detail: `malformed ${vr} range for ${keyword}` });
    }
    return { kind: 'range', from: from || undefined, to: to === '' ? undefined : vr === 'TM' ? padTimeUpper(to) : to };
  }
  if (/[*?]/.test(v)) return { kind: 'wildcard', pattern: tokenize(v) };
  return { kind: 'single', value: v };
}

/** "1100" as an upper bound means "up to 11:00 and all its seconds": 110099.999999 compares above all of them. */
function padTimeUpper(tm: string): string {
  const [hms, frac] = tm.split('.');
  return `${hms.padEnd(6, '9')}.${(frac ?? '').padEnd(6, '9')}`;
}

function tokenize(v: string): PatternToken[] {
  const out: PatternToken[] = [];
  let lit = '';
  for (const c of v) {
    if (c === '*' || c === '?') {
      if (lit) out.push({ literal: lit });
      lit = '';
      // Consecutive stars mean the same as one.
      if (!(c === '*' && out[out.length - 1] === '*')) out.push(c);
    } else lit += c;
  }
  if (lit) out.push({ literal: lit });
  return out;
}

export interface CompiledQuery {
  sql: string;
  params: unknown[];
  /** Result column alias → keyword. */
  columns: { alias: string; keyword: string }[];
  ignoredKeys: string[];
}

interface Ctx {
  dialect: Dialect;
  params: unknown[];
  ci: boolean;
}

/** Builds the SELECT for a query: `id`, `parent_id`, then one column per entry of `columns`, in that order (rows are read as arrays). */
export function compileQuery(q: MatchQuery, dialect: Dialect): CompiledQuery {
  // Edges pass user input through: check what the types cannot promise at run time.
  if (!LEVELS.includes(q.level)) throw new AppError('QUERY_INVALID', { detail: `unknown level "${String(q.level).slice(0, 20)}"` });
  for (const [name, v] of [['limit', q.limit], ['offset', q.offset]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new AppError('QUERY_INVALID', { detail: `${name} must be a non-negative integer` });
  }
  const qi = levelIndex(q.level);
  const ctx: Ctx = { dialect, params: [], ci: (q.caseInsensitivePN ?? false) || (q.fuzzy ?? false) };
  const own = TABLES[q.level];

  const columns: { alias: string; keyword: string }[] = [];
  const select: string[] = [`${own.alias}.public_id AS id`];
  if (own.parentLevel) select.push(`${TABLES[own.parentLevel].alias}.public_id AS parent_id`);
  else select.push('NULL AS parent_id');
  for (const lvl of LEVELS.slice(0, qi + 1)) {
    for (const m of mainTagsAt(lvl)) {
      const alias = `c${columns.length}`;
      columns.push({ alias, keyword: m.keyword });
      select.push(`${TABLES[lvl].alias}.${m.column} AS ${alias}`);
    }
    if (lvl === 'study') {
      const alias = `c${columns.length}`;
      columns.push({ alias, keyword: 'ModalitiesInStudy' });
      select.push(`${TABLES.study.alias}.${MODALITIES_COLUMN} AS ${alias}`);
    }
  }
  const wanted = new Set<string>(q.returnKeys ?? []);
  for (const d of DERIVED_TAGS) {
    if (d.kind !== 'count' || levelIndex(d.level) !== qi) continue;
    if (!wanted.has(d.keyword) && !wanted.has(tagKey(d.tag)) && !Object.keys(q.keys ?? {}).some((k) => resolveKey(k) === d)) continue;
    const alias = `c${columns.length}`;
    columns.push({ alias, keyword: d.keyword });
    // Scoped readers count only what they can see (select-list parameters precede the WHERE ones).
    const count = countSql(d, q.scope);
    ctx.params.push(...count.params);
    select.push(`${count.sql} AS ${alias}`);
  }

  let from = `${own.table} ${own.alias}`;
  for (let l = qi; l > 0; l--) {
    const child = TABLES[LEVELS[l]];
    const parent = TABLES[LEVELS[l - 1]];
    from += ` JOIN ${parent.table} ${parent.alias} ON ${parent.alias}.pk = ${child.alias}.${child.parentColumn}`;
  }

  // Each condition collects its own parameters, so they can be placed in SQL text order.
  const where: { sql: string; params: unknown[] }[] = [];
  const ignoredKeys: string[] = [];
  const lower = new Map<Level, { sql: string; params: unknown[] }[]>();
  for (const [key, value] of Object.entries(q.keys ?? {})) {
    const m = resolveKey(key);
    if (!m) {
      if (value.trim() !== '' && value.trim() !== '*') ignoredKeys.push(key);
      continue;
    }
    if (isDerived(m) && m.kind === 'count') {
      if (value.trim() !== '') ignoredKeys.push(key);
      continue;
    }
    const spec = parseMatchValue(value, isDerived(m) ? 'CS' : m.vr, m.keyword);
    if (spec.kind === 'universal') continue;
    const li = levelIndex(m.level);
    const alias = li <= qi ? TABLES[m.level].alias : lowerAlias(m.level);
    const condCtx: Ctx = { ...ctx, params: [] };
    const cond = { sql: condition(spec, m, alias, condCtx), params: condCtx.params };
    if (li <= qi) where.push(cond);
    else lower.set(m.level, [...(lower.get(m.level) ?? []), cond]);
  }
  if (lower.size > 0) where.push(existsLower(q.level, lower));
  if (q.within) where.push(withinCondition(q.level, q.within));
  if (q.scope) where.push(scopeCondition(q.level, TABLES[q.level].alias, q.scope));
  if (q.labels && q.labels.labels.length > 0) where.push(labelsCondition(q.level, q.labels));

  let sql = `SELECT ${select.join(', ')} FROM ${from}`;
  if (where.length) sql += ` WHERE ${where.map((w) => w.sql).join(' AND ')}`;
  for (const w of where) ctx.params.push(...w.params);
  // Insertion order (what Orthanc returns) unless asked otherwise; pk last keeps pages stable.
  sql += ` ORDER BY ${orderByClause(q, dialect)}`;
  if (q.limit !== undefined || q.offset) {
    // One extra row tells whether another page exists. SQLite needs a LIMIT before any OFFSET.
    sql += ' LIMIT ? OFFSET ?';
    ctx.params.push(q.limit !== undefined ? q.limit + 1 : Number.MAX_SAFE_INTEGER, q.offset ?? 0);
  }
  return { sql, params: ctx.params, columns, ignoredKeys };
}

/** The ORDER BY list: the requested columns, then the pk in the last key's direction. */
function orderByClause(q: MatchQuery, dialect: Dialect): string {
  const own = TABLES[q.level];
  const parts: string[] = [];
  let last: 'ASC' | 'DESC' = 'ASC';
  for (const o of q.orderBy ?? []) {
    const m = resolveKey(o.key);
    const name = String(o.key).slice(0, 40);
    if (!m || isDerived(m)) throw new AppError('QUERY_INVALID', { detail: `OrderBy ${name}: not an indexed main tag; sort on one of the level's or its parents' main tags (e.g. StudyDate, PatientName)` });
    if (levelIndex(m.level) > levelIndex(q.level)) throw new AppError('QUERY_INVALID', { detail: `OrderBy ${m.keyword}: a ${m.level} attribute cannot order ${q.level} results; use an attribute of the ${q.level} level or its parents` });
    if (o.direction !== 'asc' && o.direction !== 'desc') throw new AppError('QUERY_INVALID', { detail: `OrderBy ${m.keyword}: Direction must be ASC or DESC` });
    last = o.direction === 'asc' ? 'ASC' : 'DESC';
    // SQLite's default NULL placement (first ascending, last descending), spelled out for PostgreSQL.
    parts.push(`${dialect.byteOrder(`${TABLES[m.level].alias}.${m.column}`)} ${last} NULLS ${last === 'ASC' ? 'FIRST' : 'LAST'}`);
  }
  parts.push(`${own.alias}.pk ${last}`);
  return parts.join(', ');
}

function tagKey(tag: number): string {
  return tag.toString(16).padStart(8, '0').toUpperCase();
}

function lowerAlias(level: Level): string {
  return `x${TABLES[level].alias}`;
}

/** EXISTS over descendants: all lower-level conditions must hold for the same descendant row. */
function existsLower(level: Level, lower: Map<Level, { sql: string; params: unknown[] }[]>): { sql: string; params: unknown[] } {
  const qi = levelIndex(level);
  const deepest = Math.max(...[...lower.keys()].map(levelIndex));
  const first = TABLES[LEVELS[qi + 1]];
  let from = `${first.table} ${lowerAlias(LEVELS[qi + 1])}`;
  for (let l = qi + 2; l <= deepest; l++) {
    const t = TABLES[LEVELS[l]];
    from += ` JOIN ${t.table} ${lowerAlias(LEVELS[l])} ON ${lowerAlias(LEVELS[l])}.${t.parentColumn} = ${lowerAlias(LEVELS[l - 1])}.pk`;
  }
  const conds = [...lower.values()].flat();
  const link = `${lowerAlias(LEVELS[qi + 1])}.${first.parentColumn} = ${TABLES[level].alias}.pk`;
  return {
    sql: `EXISTS (SELECT 1 FROM ${from} WHERE ${[link, ...conds.map((c) => c.sql)].join(' AND ')})`,
    params: conds.flatMap((c) => c.params),
  };
}

function withinCondition(level: Level, within: { level: Level; id: string }): { sql: string; params: unknown[] } {
  if (levelIndex(within.level) >= levelIndex(level)) {
    throw new AppError('QUERY_INVALID', { detail: `cannot query ${level} within a ${within.level}` });
  }
  return { sql: `${TABLES[within.level].alias}.public_id = ?`, params: [within.id] };
}

/**
 * Resources holding data of the scope's projects. Instances carry their project; the other levels
 * are linked to every project of an instance under them in resource_projects ('' for none).
 */
export function scopeCondition(level: Level, alias: string, scope: ProjectScope): { sql: string; params: unknown[] } {
  if (level === 'instance') {
    const parts: string[] = [];
    if (scope.projects.length > 0) parts.push(`${alias}.project IN (${scope.projects.map(() => '?').join(', ')})`);
    if (scope.unassigned) parts.push(`${alias}.project IS NULL`);
    return { sql: parts.length ? `(${parts.join(' OR ')})` : '1 = 0', params: [...scope.projects] };
  }
  const names = [...scope.projects, ...(scope.unassigned ? [''] : [])];
  if (names.length === 0) return { sql: '1 = 0', params: [] };
  return {
    sql: `EXISTS (SELECT 1 FROM resource_projects rp WHERE rp.resource_level = ? AND rp.resource_pk = ${alias}.pk AND rp.project IN (${names.map(() => '?').join(', ')}))`,
    params: [level, ...names],
  };
}

/** Orthanc's label constraint: All (every label), Any (at least one), None (none of them). */
function labelsCondition(level: Level, l: NonNullable<MatchQuery['labels']>): { sql: string; params: unknown[] } {
  const alias = TABLES[level].alias;
  const exists = (n: number) =>
    `EXISTS (SELECT 1 FROM resource_labels rl WHERE rl.resource_level = ? AND rl.resource_pk = ${alias}.pk AND rl.label IN (${Array(n).fill('?').join(', ')}))`;
  if (l.constraint === 'All') {
    return { sql: `(${l.labels.map(() => exists(1)).join(' AND ')})`, params: l.labels.flatMap((x) => [level, x]) };
  }
  const sql = exists(l.labels.length);
  return { sql: l.constraint === 'Any' ? sql : `NOT ${sql}`, params: [level, ...l.labels] };
}

/** Correlated count of descendants, e.g. NumberOfStudyRelatedInstances (within `scope` when given). */
function countSql(d: DerivedTag, scope?: ProjectScope): { sql: string; params: unknown[] } {
  const from = levelIndex(d.level);
  const to = levelIndex(d.counts!);
  const names = LEVELS.slice(from + 1, to + 1);
  let sql = `SELECT COUNT(*) FROM ${TABLES[names[0]].table} k0`;
  for (let i = 1; i < names.length; i++) {
    sql += ` JOIN ${TABLES[names[i]].table} k${i} ON k${i}.${TABLES[names[i]].parentColumn} = k${i - 1}.pk`;
  }
  const where = `k0.${TABLES[names[0]].parentColumn} = ${TABLES[d.level].alias}.pk`;
  if (!scope) return { sql: `(${sql} WHERE ${where})`, params: [] };
  const inScope = scopeCondition(names[names.length - 1], `k${names.length - 1}`, scope);
  return { sql: `(${sql} WHERE ${where} AND ${inScope.sql})`, params: inScope.params };
}

function condition(spec: MatchSpec, m: MainTag | DerivedTag, alias: string, ctx: Ctx): string {
  const multi = isDerived(m) ? m.kind === 'modalities' : (m.multi ?? false);
  const fold = !isDerived(m) && m.vr === 'PN' && ctx.ci;
  const column = isDerived(m) ? MODALITIES_COLUMN : fold ? foldedColumn(m) : m.column;
  const col = `${alias}.${column}`;
  const f = (s: string) => (fold ? foldCase(s) : s);
  switch (spec.kind) {
    case 'universal':
      return '1 = 1';
    case 'list':
      return `(${spec.items.map((i) => condition(i, m, alias, ctx)).join(' OR ')})`;
    case 'single':
      if (multi) return wildcard(`('\\' || ${col} || '\\')`, ['*', { literal: `\\${f(spec.value)}\\` }, '*'], ctx);
      ctx.params.push(f(spec.value));
      return `${col} = ?`;
    case 'wildcard': {
      const pattern = spec.pattern.map((t) => (typeof t === 'string' ? t : { literal: f(t.literal) }));
      if (multi) return wildcard(`('\\' || ${col} || '\\')`, ['*', { literal: '\\' }, ...pattern, { literal: '\\' }, '*'], ctx);
      return wildcard(col, pattern, ctx);
    }
    case 'range': {
      // Empty stored values match only universal matching, so exclude '' explicitly.
      const parts = [`${col} <> ''`];
      if (spec.from !== undefined) {
        ctx.params.push(spec.from);
        parts.push(`${col} >= ?`);
      }
      if (spec.to !== undefined) {
        ctx.params.push(spec.to);
        parts.push(`${col} <= ?`);
      }
      return `(${parts.join(' AND ')})`;
    }
  }
}

function wildcard(expr: string, pattern: PatternToken[], ctx: Ctx): string {
  const { sql, param } = ctx.dialect.wildcard(expr, pattern);
  ctx.params.push(param);
  return sql;
}
