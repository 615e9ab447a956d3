// The key database behind CTP's @lookup and @integer, as a port. pseudonyms/ can implement it over
// the key DB (per project); MemoryCtpKeys serves a lookup table file and tests.
import { AppError } from '../../core/errors.ts';

export interface CtpKeys {
  /** CTP lookup table: the replacement for keyType/key, undefined when absent. */
  lookup(keyType: string, key: string): Promise<string | undefined>;
  /**
   * CTP IntegerTable: the integer assigned to (keyType, text), assigning the next one (1, 2, ...)
   * per keyType when new, durably; zero-padded to `width`.
   */
  integer(keyType: string, text: string, width: number): Promise<string>;
}

export class MemoryCtpKeys implements CtpKeys {
  readonly #table: Map<string, string>;
  readonly #integers = new Map<string, Map<string, number>>();

  constructor(table: ReadonlyMap<string, string> = new Map()) {
    this.#table = new Map(table);
  }

  async lookup(keyType: string, key: string): Promise<string | undefined> {
    return this.#table.get(`${keyType.trim()}/${key.trim()}`);
  }

  /** Raw table entry by full key ("ptid/123"), for CTP's "@keyType/key" indirections. */
  entry(fullKey: string): string | undefined {
    return this.#table.get(fullKey.trim());
  }

  async integer(keyType: string, text: string, width: number): Promise<string> {
    let m = this.#integers.get(keyType);
    if (!m) this.#integers.set(keyType, (m = new Map()));
    let n = m.get(text);
    if (n === undefined) m.set(text, (n = m.size + 1));
    return String(n).padStart(Math.max(0, width), '0');
  }
}

/**
 * Parses a CTP lookup table: Java properties lines `keyType/value=replacement` (or ':'), or CSV
 * lines `keyType/value,replacement`. Blank lines and '#'/'!' comments are skipped. Errors name the
 * line, never its content (the keys are patient identifiers).
 */
export function parseLookupTable(text: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const m = /^((?:\\.|[^=:,\\])*?)\s*[=:,]\s*(.*)$/.exec(line);
    if (!m || !m[1]!.includes('/')) throw new AppError('KEYS_IMPORT_INVALID', { detail: `lookup table line ${i + 1}: keyType/value=replacement expected` });
    const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
    out.set(unescape(m[1]!).trim(), unescape(m[2]!.replace(/^"(.*)"$/, '$1')).trim());
  });
  return out;
}
