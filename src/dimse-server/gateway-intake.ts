// C-STORE into a called AE title bound to a de-identification project. De-identification needs
// the whole object, so the dataset is collected in memory here (bounded by maxObjectBytes); the
// response waits until the de-identified copy is durably archived, or the original durably
// quarantined. Other called AE titles fall through to the plain archive intake.
import { ERRORS } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { CStoreRequest, StoreSink } from '../dimse/handlers.ts';
import { STATUS } from '../dimse/status.ts';
import type { GatewayProject, GatewayService } from '../services/gateway.ts';
import { statusForCode, type StoreIntake } from './c-store-intake.ts';
import { part10Header } from './part10-header.ts';

export interface GatewayIntakeDeps {
  gateway: GatewayService;
  /** The project bound to a called AE title, or undefined for a plain archive AE. */
  projectFor(calledAe: string): GatewayProject | undefined;
  fallback: StoreIntake;
  log: Logger;
  /** Largest object accepted on a de-identifying AE (default 2 GiB). */
  maxObjectBytes?: number;
}

/** First size of an assembly buffer: a 512x512 16-bit slice (~0.5 MB) fits without growing. */
const INITIAL_ASSEMBLY_BYTES = 1024 * 1024;
/** Buffers kept for reuse: one per association in flight covers the usual 1-8 associations. */
const POOLED_BUFFERS = 8;
/** Larger buffers (big multi-frame objects) are left to the garbage collector, not kept. */
const MAX_POOLED_BYTES = 4 * 1024 * 1024;

/**
 * Buffers objects are assembled in, reused from one C-STORE to the next. Each object used to cost two
 * fresh copies of its size (one per P-DATA fragment, then a Buffer.concat), and first-touching fresh
 * pages costs more on this kind of VM than de-identifying the object (~3 us per 4 KB of system time).
 * A buffer returns here only when the gateway is done with the object: the de-identified chunks (views
 * into it) have been copied into the blob writer and committed, or the original written to the quarantine.
 */
export class AssemblyPool {
  readonly #free: Buffer[] = [];

  constructor(
    readonly keep = POOLED_BUFFERS,
    readonly maxPooledBytes = MAX_POOLED_BYTES,
  ) {}

  /** A buffer of at least `min` bytes (contents undefined). */
  take(min: number): Buffer {
    for (let i = this.#free.length - 1; i >= 0; i--) {
      if (this.#free[i].length >= min) return this.#free.splice(i, 1)[0];
    }
    return Buffer.allocUnsafeSlow(Math.max(min, INITIAL_ASSEMBLY_BYTES));
  }

  give(buf: Buffer): void {
    // length 0: a buffer whose memory was transferred away (detached) is no use to anyone.
    if (buf.length > 0 && buf.length <= this.maxPooledBytes && this.#free.length < this.keep) this.#free.push(buf);
  }

  get size(): number {
    return this.#free.length;
  }
}

export function gatewayIntake(deps: GatewayIntakeDeps): StoreIntake {
  const max = deps.maxObjectBytes ?? 2 * 1024 ** 3;
  const pool = new AssemblyPool();
  return (rq: CStoreRequest) => {
    const target = deps.projectFor(rq.association.calledAe);
    if (!target) return deps.fallback(rq);
    const header = part10Header({ sopClassUid: rq.affectedSopClassUid, sopInstanceUid: rq.affectedSopInstanceUid, transferSyntaxUid: rq.transferSyntaxUid, sourceAe: rq.association.callingAe });
    let buf: Buffer | undefined = pool.take(header.length);
    header.copy(buf, 0);
    let used = header.length;
    let size = 0;
    let tooLarge = false;
    // 'collecting' until finish(); the buffer is in use by the gateway until finish() settles.
    let state: 'collecting' | 'processing' | 'done' = 'collecting';
    const release = (): void => {
      if (buf) pool.give(buf);
      buf = undefined;
    };
    const sink: StoreSink = {
      write(chunk) {
        if (state !== 'collecting') return;
        size += chunk.length;
        if (size > max) {
          // Stop holding the object: finish() only answers that it was too large.
          tooLarge = true;
          release();
          return;
        }
        if (!buf) return;
        if (used + chunk.length > buf.length) {
          // Grow by doubling: amortized one extra copy of a large object, not one per fragment.
          const next = pool.take(Math.max(buf.length * 2, used + chunk.length));
          buf.copy(next, 0, 0, used);
          pool.give(buf);
          buf = next;
        }
        buf.set(chunk, used);
        used += chunk.length;
      },
      async finish() {
        if (state !== 'collecting') return { status: STATUS.StoreOutOfResources, errorComment: 'association aborted' };
        state = 'processing';
        if (tooLarge || !buf) {
          state = 'done';
          release();
          deps.log.warn('C-STORE to gateway refused: object too large', { calledAe: rq.association.calledAe, bytes: size, max });
          return { status: STATUS.StoreOutOfResources, errorComment: 'object too large for de-identification' };
        }
        try {
          const r = await deps.gateway.process(buf.subarray(0, used), target, {
            transport: 'dimse',
            remoteAe: rq.association.callingAe,
            calledAe: rq.association.calledAe,
            remoteHost: rq.association.remoteAddress,
          });
          if (r.status === 'rejected') return { status: statusForCode(r.code), errorComment: r.code };
          return STATUS.Success;
        } catch (e) {
          const code = (e as { code?: keyof typeof ERRORS }).code;
          deps.log.error('gateway C-STORE failed', { calledAe: rq.association.calledAe, err: e });
          return { status: code && code in ERRORS ? statusForCode(code) : STATUS.StoreOutOfResources, errorComment: code ?? 'internal error' };
        } finally {
          // GatewayService.process has settled: nothing it started still reads the object.
          state = 'done';
          release();
        }
      },
      abort() {
        // Mid-dataset only; a buffer the gateway is processing is released by finish().
        if (state !== 'collecting') return;
        state = 'done';
        release();
      },
    };
    return sink;
  };
}
