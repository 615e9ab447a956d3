// The configured notification channels (`notifications.webhook`, `notifications.email`).
import type { NotificationsConfig } from '../config/read-notifications.ts';
import { EmailNotifier } from './email-notifier.ts';
import type { Notifier } from './notifier.ts';
import { WebhookNotifier } from './webhook-notifier.ts';

export function buildNotifiers(c: NotificationsConfig): Notifier[] {
  const out: Notifier[] = [];
  const w = c.webhook;
  if (w) {
    const auth = w.auth === undefined ? undefined : w.auth.kind === 'bearer' ? { kind: 'bearer' as const, token: w.auth.secret } : { kind: 'basic' as const, username: w.auth.username, password: w.auth.secret };
    out.push(new WebhookNotifier({ url: w.url, timeoutMs: w.timeoutSeconds * 1000, ...(auth ? { auth } : {}) }));
  }
  const m = c.email;
  if (m) {
    out.push(
      new EmailNotifier({
        host: m.host,
        port: m.port,
        secure: m.secure,
        requireTls: m.requireTls,
        from: m.from,
        to: m.to,
        timeoutMs: m.timeoutSeconds * 1000,
        ...(m.auth ? { auth: { username: m.auth.username, password: m.auth.secret } } : {}),
      }),
    );
  }
  return out;
}
