// A DICOM peer as a route destination: C-STORE over one reused association (closed after an idle
// period), re-associating when an instance needs a SOP class or transfer syntax not yet negotiated.
// Each SOP class is proposed in the instance's own transfer syntax plus explicit and implicit VR
// little endian; native data the peer only accepts in another native syntax is re-encoded,
// compressed data is never transcoded (the peer must accept its syntax).
import { AppError } from '../core/errors.ts';
import { readPart10, writeDataset } from '../dicom/part10.ts';
import { associate, type ScuAssociation } from '../dimse/scu.ts';
import { parsePart10Meta } from '../dimse/part10-source.ts';
import { formatStatus, statusCategory } from '../dimse/status.ts';
import { SOP, TS } from '../dimse/uids.ts';
import type { Destination } from '../pipeline/route-queue.ts';
import type { ItemLoader } from './disk-destination.ts';

export interface DicomPeer {
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  /** Our AE title towards the peer. */
  readonly callingAe: string;
  /** Close the association after this long without a send. */
  readonly idleMs?: number;
}

const NATIVE = new Set<string>([TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian]);
/** Read buffers up to this size are kept for the next item; a larger instance gets a buffer of its own. */
const RECYCLE_MAX_BYTES = 64 * 1024 * 1024;

export class DicomPeerDestination implements Destination {
  readonly name: string;
  readonly #peer: DicomPeer;
  readonly #load: ItemLoader;
  #assoc: ScuAssociation | undefined;
  /** sopClass -> transfer syntaxes seen, proposed on every (re)association. */
  readonly #wanted = new Map<string, Set<string>>();
  #chain: Promise<unknown> = Promise.resolve();
  #idle: NodeJS.Timeout | undefined;
  /**
   * Items are read into this one buffer (sends are serialised, and a C-STORE's bytes are no longer
   * needed once its response arrived): a fresh buffer per instance cost ~0.4 ms of page faults per
   * 525 KB slice on the bench machine and made V8 collect every few dozen instances.
   */
  #buf: Buffer | undefined;

  constructor(name: string, peer: DicomPeer, load: ItemLoader) {
    this.name = name;
    this.#peer = peer;
    this.#load = load;
  }

  send(item: string): Promise<void> {
    // One C-STORE at a time on the shared association; the route's concurrency gives parallel items
    // their turn here.
    const run = this.#chain.then(() => this.#send(item));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #send(item: string): Promise<void> {
    const loaded = await this.#load(item, this.#buf);
    // A view, not a copy: the loader's answer is ours until the next load.
    const bytes = Buffer.from(loaded.buffer, loaded.byteOffset, loaded.byteLength);
    if (bytes.buffer !== this.#buf?.buffer && bytes.length < RECYCLE_MAX_BYTES) {
      // It did not fit (or came from elsewhere): a buffer of our own for the next items, never pooled
      // memory (readInto writes into it), rounded up so slightly larger instances fit too.
      this.#buf = Buffer.allocUnsafeSlow(Math.ceil((bytes.length + 1) / 65_536) * 65_536);
    }
    const meta = parsePart10Meta(bytes, 'instance');
    const known = this.#wanted.get(meta.sopClassUid);
    if (!known?.has(meta.transferSyntaxUid)) {
      this.#wanted.set(meta.sopClassUid, new Set([...(known ?? []), meta.transferSyntaxUid]));
      await this.#drop();
    }
    const assoc = await this.#association();
    let ts = meta.transferSyntaxUid;
    let data: Uint8Array = bytes.subarray(meta.datasetOffset);
    const accepted = assoc.acceptedContexts.filter((c) => c.abstractSyntax === meta.sopClassUid).map((c) => c.transferSyntax);
    if (!accepted.includes(ts)) {
      const alt = accepted.find((t) => NATIVE.has(t));
      if (!alt || !NATIVE.has(ts)) throw new AppError('DIMSE_NO_CONTEXT', { detail: `${this.name}: ${meta.sopClassUid} in ${ts}` });
      data = Buffer.concat(writeDataset(readPart10(bytes).dataset, alt));
      ts = alt;
    }
    let result;
    try {
      result = await assoc.store({ sopClassUid: meta.sopClassUid, sopInstanceUid: meta.sopInstanceUid, transferSyntaxUid: ts, open: () => data });
    } catch (e) {
      this.#buf = undefined; // the aborted send may still reference it
      await this.#drop(true);
      throw e;
    }
    this.#armIdle();
    const cat = statusCategory(result.status);
    if (cat === 'success' || cat === 'warning') return;
    // Only a success or warning means the peer read the whole data set (so every byte of the buffer
    // left it); a failure may come early while fragments are still being written from it.
    this.#buf = undefined;
    // PS3.4 B.2.3: A7xx Refused: Out of Resources is temporary; other failures are not.
    if ((result.status & 0xff00) === 0xa700) throw new AppError('ROUTE_PEER_BUSY', { detail: `${this.name}: ${formatStatus(result.status)} for ${meta.sopInstanceUid}` });
    throw new AppError('DIMSE_PEER_FAILURE', { detail: `${this.name}: ${formatStatus(result.status)} for ${meta.sopInstanceUid}` });
  }

  async #association(): Promise<ScuAssociation> {
    if (this.#assoc) return this.#assoc;
    const contexts = [...this.#wanted].map(([sopClass, tss]) => ({
      abstractSyntax: sopClass,
      transferSyntaxes: [...new Set([...tss, TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian])],
    }));
    this.#assoc = await associate({ host: this.#peer.host, port: this.#peer.port, callingAe: this.#peer.callingAe, calledAe: this.#peer.aeTitle, contexts });
    return this.#assoc;
  }

  #armIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#chain = this.#chain.then(() => {
        this.#buf = undefined; // idle: give the memory back
        return this.#drop();
      });
    }, this.#peer.idleMs ?? 5_000);
    this.#idle.unref();
  }

  async #drop(abort = false): Promise<void> {
    const a = this.#assoc;
    this.#assoc = undefined;
    if (!a) return;
    if (abort) a.abort();
    else await a.release().catch(() => a.abort());
  }

  /** C-ECHO on a fresh association. */
  async test(): Promise<void> {
    const a = await associate({
      host: this.#peer.host,
      port: this.#peer.port,
      callingAe: this.#peer.callingAe,
      calledAe: this.#peer.aeTitle,
      contexts: [{ abstractSyntax: SOP.Verification, transferSyntaxes: [TS.ImplicitVRLittleEndian] }],
    });
    try {
      const status = await a.echo();
      if (status !== 0) throw new AppError('DIMSE_PEER_FAILURE', { detail: `${this.name}: C-ECHO ${formatStatus(status)}` });
    } finally {
      await a.release().catch(() => a.abort());
    }
  }

  async close(): Promise<void> {
    if (this.#idle) clearTimeout(this.#idle);
    await this.#chain.catch(() => undefined);
    await this.#drop();
  }
}
