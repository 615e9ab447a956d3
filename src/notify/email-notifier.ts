// E-mail over SMTP with nodemailer (docs/dependencies.md): one message per notification, to the
// configured recipients. Transient SMTP failures (connection, timeouts, 4xx replies) retry with the
// job backoff; permanent ones (5xx replies: bad sender, recipients refused, auth failed) fail.
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { AppError } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import { subjectOf, textOf, type NotifyMessage } from './notification.ts';
import type { Notifier } from './notifier.ts';

export interface EmailOptions {
  readonly host: string;
  readonly port: number;
  /** true: TLS from the start (port 465); false: STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly auth?: { readonly username: string; readonly password: Secret };
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
  /** Refuse to send without TLS (STARTTLS required). */
  readonly requireTls?: boolean;
}

export class EmailNotifier implements Notifier {
  readonly channel = 'email';
  readonly #o: EmailOptions;
  readonly #transport: Transporter;

  constructor(o: EmailOptions) {
    this.#o = o;
    this.#transport = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.secure,
      requireTLS: o.requireTls ?? false,
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
      ...(o.auth ? { auth: { user: o.auth.username, pass: o.auth.password.reveal() } } : {}),
    });
  }

  async send(message: NotifyMessage, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new AppError('NOTIFY_UNAVAILABLE', { detail: 'e-mail send canceled' });
    try {
      await this.#transport.sendMail({ from: this.#o.from, to: [...this.#o.to], subject: subjectOf(message), text: textOf(message) });
    } catch (cause) {
      // nodemailer puts the SMTP reply code in responseCode; 5xx is permanent (RFC 5321 4.2.1).
      const code = (cause as { responseCode?: number }).responseCode;
      const detail = `smtp ${this.#o.host}:${this.#o.port} ${code !== undefined ? `answered ${code}` : `failed (${(cause as { code?: string }).code ?? 'error'})`}`;
      throw new AppError(code !== undefined && code >= 500 ? 'NOTIFY_REJECTED' : 'NOTIFY_UNAVAILABLE', { detail, cause });
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
