// Everything that differs between SQLite and PostgreSQL in the index's queries, in one place.
// The rest of the SQL is the common subset both accept: `?` placeholders (the PostgreSQL adapter
// rewrites them to $n), `||`, LIMIT/OFFSET, INSERT ... RETURNING, ON CONFLICT.

/** A DICOM wildcard pattern split into literal runs and the two wildcards (PS3.4 C.2.2.2.4). */
export type PatternToken = { literal: string } | '*' | '?';

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Case-sensitive wildcard match of `expr` against `pattern`: SQL text with one `?`, and its parameter. */
  wildcard(expr: string, pattern: readonly PatternToken[]): { sql: string; param: string };
  /** `expr` compared byte by byte in ORDER BY (SQLite's BINARY; PostgreSQL's database collation would differ). */
  byteOrder(expr: string): string;
}

/**
 * SQLite's LIKE ignores ASCII case (and PRAGMA case_sensitive_like is deprecated), so exact-case
 * wildcards use GLOB, whose only specials are * ? and [ ]; a literal one is written as a class.
 */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  wildcard(expr, pattern) {
    const param = pattern
      .map((tok) => (tok === '*' ? '*' : tok === '?' ? '?' : tok.literal.replace(/[*?[]/g, (c) => `[${c}]`)))
      .join('');
    return { sql: `${expr} GLOB ?`, param };
  },
  // BINARY is the default collation: the bare column keeps its index usable for the sort.
  byteOrder: (expr) => expr,
};

/** PostgreSQL's LIKE is case-sensitive; % _ and the escape character itself are escaped. */
export const postgresDialect: Dialect = {
  name: 'postgres',
  wildcard(expr, pattern) {
    const param = pattern
      .map((tok) => (tok === '*' ? '%' : tok === '?' ? '_' : tok.literal.replace(/[\\%_]/g, (c) => `\\${c}`)))
      .join('');
    return { sql: `${expr} LIKE ? ESCAPE '\\'`, param };
  },
  byteOrder: (expr) => `${expr} COLLATE "C"`,
};
