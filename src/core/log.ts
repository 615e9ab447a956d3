// Minimal structured logger: one JSON object per line on stderr (or a given stream).
// Callers pass UIDs, ids, codes and counts as fields; never names, patient IDs or dataset dumps,
// because logs leave the de-identified zone.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export function createLogger(opts: { level?: LogLevel; stream?: NodeJS.WritableStream; bindings?: Record<string, unknown> } = {}): Logger {
  const level = RANK[opts.level ?? 'info'];
  const stream = opts.stream ?? process.stderr;
  const bindings = opts.bindings ?? {};
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < level) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...bindings, ...fields };
    const err = rec.err;
    if (err instanceof Error) {
      rec.err = { name: err.name, message: err.message, code: (err as { code?: unknown }).code };
    }
    stream.write(JSON.stringify(rec) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (b) => createLogger({ level: opts.level, stream, bindings: { ...bindings, ...b } }),
  };
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = createLogger({ level: 'silent' });
