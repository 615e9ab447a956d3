// A DICOMweb server as a route destination: STOW-RS (PS3.18 10.5), one instance per request as a
// multipart/related body, with basic or bearer authentication. 408, 429, 5xx and network errors
// are retried; other 4xx send the item to the dead-letter list at once.
import { randomBytes } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import type { Destination } from '../pipeline/route-queue.ts';
import type { ItemLoader } from './disk-destination.ts';

export interface StowTarget {
  /** Base URL of the DICOMweb service, e.g. https://pacs.example.org/dicom-web */
  readonly url: string;
  readonly auth?: { readonly kind: 'basic'; readonly user: string; readonly password: Secret } | { readonly kind: 'bearer'; readonly token: Secret };
  readonly timeoutMs?: number;
}

export class StowDestination implements Destination {
  readonly name: string;
  readonly #target: StowTarget;
  readonly #load: ItemLoader;

  constructor(name: string, target: StowTarget, load: ItemLoader) {
    this.name = name;
    this.#target = target;
    this.#load = load;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    const a = this.#target.auth;
    if (a?.kind === 'basic') h.authorization = `Basic ${Buffer.from(`${a.user}:${a.password.reveal()}`).toString('base64')}`;
    else if (a?.kind === 'bearer') h.authorization = `Bearer ${a.token.reveal()}`;
    return h;
  }

  async send(item: string, signal: AbortSignal): Promise<void> {
    const bytes = await this.#load(item);
    const boundary = `dicomgate-${randomBytes(12).toString('hex')}`;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await this.#fetch(`${this.#target.url.replace(/\/+$/, '')}/studies`, {
      method: 'POST',
      headers: this.#headers({ 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' }),
      body,
      signal,
    });
    // PS3.18 10.5.3: 200 all stored, 202 stored with warnings, 409 some or all failed.
    if (res.status === 200 || res.status === 202) return;
    const detail = `${this.name}: STOW-RS answered HTTP ${res.status}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw new AppError('ROUTE_PEER_BUSY', { detail });
    throw new AppError('ROUTE_REJECTED', { detail });
  }

  async #fetch(url: string, init: RequestInit & { signal?: AbortSignal }): Promise<Response> {
    const timeout = AbortSignal.timeout(this.#target.timeoutMs ?? 60_000);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      const res = await fetch(url, { ...init, signal });
      await res.arrayBuffer().catch(() => undefined);
      return res;
    } catch (e) {
      // Unreachable or timed out: the destination may come back.
      throw new AppError('ROUTE_PEER_BUSY', { detail: `${this.name}: ${(e as Error).name === 'TimeoutError' ? 'timeout' : 'connection failed'}`, cause: e });
    }
  }

  /** HTTP probe: QIDO-RS with limit=1 must answer 200 or 204. */
  async test(): Promise<void> {
    const res = await this.#fetch(`${this.#target.url.replace(/\/+$/, '')}/studies?limit=1`, { headers: this.#headers({ accept: 'application/dicom+json' }) });
    if (res.status !== 200 && res.status !== 204) throw new AppError('ROUTE_REJECTED', { detail: `${this.name}: probe answered HTTP ${res.status}` });
  }
}
