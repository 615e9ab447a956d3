// Webhook: one JSON POST per notification, with an optional Authorization header built from a
// secret, and a timeout. 2xx is delivered; 408, 429, 5xx and network errors retry (job backoff);
// other statuses are a configuration problem (wrong URL, bad credentials) and fail at once.
import { AppError } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import type { NotifyMessage } from './notification.ts';
import type { Notifier } from './notifier.ts';

export type WebhookAuth = { readonly kind: 'bearer'; readonly token: Secret } | { readonly kind: 'basic'; readonly username: string; readonly password: Secret };

export interface WebhookOptions {
  readonly url: string;
  readonly auth?: WebhookAuth;
  readonly timeoutMs: number;
}

export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';
  readonly #o: WebhookOptions;

  constructor(o: WebhookOptions) {
    this.#o = o;
  }

  async send(message: NotifyMessage, signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'dicomgate' };
    const a = this.#o.auth;
    if (a?.kind === 'bearer') headers.authorization = `Bearer ${a.token.reveal()}`;
    else if (a?.kind === 'basic') headers.authorization = `Basic ${Buffer.from(`${a.username}:${a.password.reveal()}`).toString('base64')}`;
    let res: Response;
    try {
      res = await fetch(this.#o.url, { method: 'POST', headers, body: JSON.stringify(message), signal: AbortSignal.any([signal, AbortSignal.timeout(this.#o.timeoutMs)]) });
    } catch (cause) {
      const timedOut = (cause as Error).name === 'TimeoutError';
      throw new AppError('NOTIFY_UNAVAILABLE', { detail: `webhook ${timedOut ? `timed out after ${this.#o.timeoutMs} ms` : 'unreachable'}`, cause });
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return;
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw new AppError('NOTIFY_UNAVAILABLE', { detail: `webhook answered ${res.status}` });
    throw new AppError('NOTIFY_REJECTED', { detail: `webhook answered ${res.status}` });
  }
}
