// The audit trail: every event goes to the append-only table (queried by GET /audit) and, as one
// JSON line, to <dataDir>/audit.log (for log shippers and for reading when the database is gone).
// Recording never throws into the caller's request: a failure is logged loudly instead.
import { appendFileSync } from 'node:fs';
import type { Logger } from '../core/log.ts';
import type { AuditEvent, AuditQuery, AuditStore, StoredAuditEvent } from './audit-event.ts';

export type AuditInput = Omit<AuditEvent, 'at'> & { at?: string };

export class AuditLog {
  readonly #store: AuditStore;
  readonly #file: string | null;
  readonly #logger: Logger;
  readonly #now: () => Date;

  constructor(opts: { store: AuditStore; file: string | null; logger: Logger; now?: () => Date }) {
    this.#store = opts.store;
    this.#file = opts.file;
    this.#logger = opts.logger;
    this.#now = opts.now ?? (() => new Date());
  }

  async record(input: AuditInput): Promise<void> {
    const event: AuditEvent = { ...input, at: input.at ?? this.#now().toISOString() };
    let seq: number | null = null;
    try {
      seq = await this.#store.append(event);
    } catch (err) {
      this.#logger.error('audit record not stored in database', { action: event.action, err });
    }
    if (this.#file !== null) {
      try {
        // Synchronous append: lines stay in event order and are on disk before the response.
        appendFileSync(this.#file, JSON.stringify({ seq, ...event }) + '\n', { mode: 0o600 });
      } catch (err) {
        this.#logger.error('audit record not written to file', { action: event.action, err });
      }
    }
  }

  list(q: AuditQuery): Promise<StoredAuditEvent[]> {
    return this.#store.list(q);
  }
}
