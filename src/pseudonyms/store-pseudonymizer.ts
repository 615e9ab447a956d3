// Pseudonymizer over a PseudonymStore, for one project. Two things make it fast:
// - a cache of known patients and UIDs (a CT series repeats its study, series and frame of reference
//   UIDs in every slice), so a request whose values are all known needs no database call;
// - group commit: requests arriving in the same turn of the event loop go to the store as one
//   transaction. A request resolves only after its transaction committed, so a mapping is durable
//   before the output that uses it can be reported done. A caller with many files in flight (the
//   deid command) may set a batch window: requests then wait up to that long, or until `batchTarget`
//   are queued, so that one commit (one fsync of the SQLite WAL) serves more of them. With reads and
//   writes off the main thread, files reach the pseudonymizer one by one; without a window a 300-slice
//   CT took 76-118 commits of 2.5-3.9 requests each, and on a busy disk those fsyncs were most of the run.
//   The target may be a function, re-read on each request and on poke(): the deid command passes the
//   number of its files that could still ask (files in flight less those waiting for their output
//   write or for a batch being committed: see `committing`), so a batch goes as soon as every file that
//   can ask has asked, instead of idling out the window while the rest wait on their writes (a fixed
//   target of 16 let 9-160 windows of 10 ms per 1000-slice run time out).
// With `earlyAnswers` (and a store offering resolveBatchEarly) a request is answered when its
// transaction committed, with the flush of that commit as `durable`: the deid command encodes and
// writes the output meanwhile and renames it into place only when `durable` settled, so the WAL's
// fdatasync no longer holds every file of the batch (on a busy disk it took up to tens of ms). A cache
// hit then carries the latest batch's `durable`, which covers every earlier commit (WalSync flushes in
// order), since the cached values may be from a commit not on disk yet.
import type { PatientKey, PatientPseudonym, PseudonymMapping, PseudonymPolicy, PseudonymRequest, Pseudonymizer } from '../deid/pseudonymizer.ts';
import type { BatchRequest, BatchResult, PseudonymStore } from './pseudonym-store.ts';

interface Pending {
  req: PseudonymRequest;
  resolve: (m: PseudonymMapping) => void;
  reject: (e: unknown) => void;
}

const DEFAULT_CACHE_SIZE = 200_000;
const MAX_BATCH = 256;

const patientCacheKey = (k: PatientKey): string => `${k.patientId}\u0000${k.issuer}`;

export class StorePseudonymizer implements Pseudonymizer {
  readonly #store: PseudonymStore;
  readonly #project: string;
  readonly #policy: PseudonymPolicy;
  readonly #cacheSize: number;
  readonly #patients = new Map<string, PatientPseudonym>();
  readonly #uids = new Map<string, string>();
  readonly #windowMs: number;
  readonly #batchTarget: number | (() => number);
  readonly #early: boolean;
  /** Early answers: the flush of the latest commit (covers all earlier ones). */
  #lastDurable: Promise<void> | undefined;
  #queue: Pending[] = [];
  #committing = 0;
  #immediate = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    store: PseudonymStore,
    project: string,
    policy: PseudonymPolicy,
    opts: { cacheSize?: number; batchWindowMs?: number; batchTarget?: number | (() => number); earlyAnswers?: boolean } = {},
  ) {
    this.#store = store;
    this.#project = project;
    this.#policy = policy;
    this.#cacheSize = opts.cacheSize ?? DEFAULT_CACHE_SIZE;
    this.#windowMs = opts.batchWindowMs ?? 0;
    this.#batchTarget = opts.batchTarget ?? 1;
    this.#early = opts.earlyAnswers === true && store.resolveBatchEarly !== undefined;
  }

  resolve(req: PseudonymRequest): Promise<PseudonymMapping> {
    const cached = this.#fromCache(req);
    if (cached) return Promise.resolve(cached);
    return new Promise((resolve, reject) => {
      this.#queue.push({ req, resolve, reject });
      this.#schedule(this.#windowMs === 0 || this.#queue.length >= this.#target());
    });
  }

  /** Re-reads a dynamic batch target: the waiting requests are committed now if it is met. */
  poke(): void {
    if (this.#queue.length > 0 && this.#queue.length >= this.#target()) this.#schedule(true);
  }

  /** Requests in batches sent to the store and not answered yet (their commit or its flush runs). */
  get committing(): number {
    return this.#committing;
  }

  #target(): number {
    const t = typeof this.#batchTarget === 'function' ? this.#batchTarget() : this.#batchTarget;
    return Math.min(MAX_BATCH, Math.max(1, t));
  }

  /** A flush at the next turn of the event loop (now) or when the batch window closes. */
  #schedule(now: boolean): void {
    if (this.#immediate) return;
    if (now) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#immediate = true;
      setImmediate(() => {
        this.#immediate = false;
        void this.#flush();
      });
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        void this.#flush();
      }, this.#windowMs);
    }
  }

  /** Forgets cached keys, e.g. after deletePatient through another store instance. */
  clearCache(): void {
    this.#patients.clear();
    this.#uids.clear();
  }

  #fromCache(req: PseudonymRequest): PseudonymMapping | undefined {
    const patient = this.#patients.get(patientCacheKey(req.patient));
    if (!patient) return undefined;
    const uids = new Map<string, string>();
    for (const u of req.uids) {
      const r = this.#uids.get(u);
      if (r === undefined) return undefined;
      uids.set(u, r);
    }
    return this.#lastDurable ? { patient, uids, durable: this.#lastDurable } : { patient, uids };
  }

  /** One batch through the store: the results and, for early answers, the flush still to come. */
  async #commit(requests: BatchRequest[]): Promise<{ results: BatchResult[]; durable?: Promise<void> }> {
    if (!this.#early || !this.#store.resolveBatchEarly) return { results: await this.#store.resolveBatch(this.#project, requests, this.#policy) };
    const r = await this.#store.resolveBatchEarly(this.#project, requests, this.#policy);
    this.#lastDurable = r.durable;
    return r;
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      // Cached UIDs are taken now: #remember may clear the cache before the batch returns.
      const known = batch.map((p) => new Map(p.req.uids.flatMap((u) => (this.#uids.has(u) ? [[u, this.#uids.get(u) as string] as const] : []))));
      const requests: BatchRequest[] = batch.map((p, i) => ({ key: p.req.patient, uids: p.req.uids.filter((u) => !known[i].has(u)) }));
      this.#committing += batch.length;
      try {
        const { results, durable } = await this.#commit(requests).finally(() => (this.#committing -= batch.length));
        results.forEach((r, i) => {
          this.#remember(batch[i].req.patient, r.pseudonym, r.uids);
          const uids = known[i];
          for (const [o, n] of r.uids) uids.set(o, n);
          batch[i].resolve(durable ? { patient: r.pseudonym, uids, durable } : { patient: r.pseudonym, uids });
        });
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    }
  }

  #remember(key: PatientKey, p: PatientPseudonym, uids: Map<string, string>): void {
    // Crude bound: dropping the whole cache costs a few extra lookups, never a wrong answer.
    if (this.#uids.size + uids.size > this.#cacheSize) this.#uids.clear();
    if (this.#patients.size > this.#cacheSize) this.#patients.clear();
    this.#patients.set(patientCacheKey(key), p);
    for (const [o, r] of uids) this.#uids.set(o, r);
  }
}
