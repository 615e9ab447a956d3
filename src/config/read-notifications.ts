// `notifications`: study-done / job-failed messages by webhook and/or e-mail (src/notify). Each
// channel is optional; secrets (bearer token, basic or SMTP password) are references resolved here.
import type { Secret } from '../core/secret.ts';
import { isSecretRef, resolveSecret } from './secrets.ts';

export interface NotificationsConfig {
  /** Which events are sent: study-done, job-failed. */
  events: ('study-done' | 'job-failed')[];
  /** Attempts per notification before it is given up (retries back off like jobs). */
  maxAttempts: number;
  webhook: { url: string; auth?: { kind: 'bearer'; secret: Secret } | { kind: 'basic'; username: string; secret: Secret }; timeoutSeconds: number } | null;
  email: {
    host: string;
    port: number;
    secure: boolean;
    requireTls: boolean;
    auth?: { username: string; secret: Secret };
    from: string;
    to: string[];
    timeoutSeconds: number;
  } | null;
}

export const defaultNotifications = (): NotificationsConfig => ({ events: ['study-done', 'job-failed'], maxAttempts: 8, webhook: null, email: null });

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const EVENTS = ['study-done', 'job-failed'];

export function readNotifications(raw: unknown, problems: string[], env: NodeJS.ProcessEnv): NotificationsConfig {
  const out = defaultNotifications();
  if (!isObj(raw)) {
    problems.push('"notifications" must be an object');
    return out;
  }
  const unknown = (obj: Json, where: string, keys: string[]) => {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) problems.push(`unknown key "${where}.${k}"`);
  };
  const secret = (v: unknown, where: string): Secret | undefined => {
    if (!isSecretRef(v)) {
      problems.push(`"${where}" must be a secret reference "env:NAME" or "file:/path", never the secret itself`);
      return undefined;
    }
    try {
      return resolveSecret(v, env);
    } catch (e) {
      problems.push(`"${where}": ${(e as Error).message}`);
      return undefined;
    }
  };
  const seconds = (v: unknown, where: string, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !(v > 0) || v > 3600) problems.push(`"${where}" must be a number of seconds, 0-3600`);
    return typeof v === 'number' ? v : dflt;
  };
  unknown(raw, 'notifications', ['events', 'maxAttempts', 'webhook', 'email']);
  if (raw.events !== undefined) {
    if (!Array.isArray(raw.events) || !raw.events.every((e) => EVENTS.includes(e as string))) problems.push(`"notifications.events" must list ${EVENTS.join(', ')}`);
    else out.events = raw.events as NotificationsConfig['events'];
  }
  if (raw.maxAttempts !== undefined) {
    if (!Number.isInteger(raw.maxAttempts) || (raw.maxAttempts as number) < 1) problems.push('"notifications.maxAttempts" must be an integer >= 1');
    else out.maxAttempts = raw.maxAttempts as number;
  }
  const w = raw.webhook;
  if (w !== undefined && w !== null) {
    if (!isObj(w)) problems.push('"notifications.webhook" must be an object');
    else {
      unknown(w, 'notifications.webhook', ['url', 'auth', 'timeoutSeconds']);
      if (typeof w.url !== 'string' || !/^https?:\/\//.test(w.url)) problems.push('"notifications.webhook.url" must be an http(s) URL');
      const hook: NonNullable<NotificationsConfig['webhook']> = { url: String(w.url), timeoutSeconds: seconds(w.timeoutSeconds, 'notifications.webhook.timeoutSeconds', 10) };
      if (w.auth !== undefined) {
        const a = w.auth;
        if (!isObj(a) || (a.kind !== 'basic' && a.kind !== 'bearer')) problems.push('"notifications.webhook.auth" must be {kind: basic|bearer, username?, secret}');
        else {
          unknown(a, 'notifications.webhook.auth', ['kind', 'username', 'secret']);
          const s = secret(a.secret, 'notifications.webhook.auth.secret');
          if (a.kind === 'basic' && (typeof a.username !== 'string' || a.username === '')) problems.push('"notifications.webhook.auth.username" is needed for basic auth');
          else if (s) hook.auth = a.kind === 'basic' ? { kind: 'basic', username: a.username as string, secret: s } : { kind: 'bearer', secret: s };
        }
      }
      out.webhook = hook;
    }
  }
  const m = raw.email;
  if (m !== undefined && m !== null) {
    if (!isObj(m)) problems.push('"notifications.email" must be an object');
    else {
      unknown(m, 'notifications.email', ['host', 'port', 'secure', 'requireTls', 'auth', 'from', 'to', 'timeoutSeconds']);
      if (typeof m.host !== 'string' || m.host === '') problems.push('"notifications.email.host" must be the SMTP server name');
      const secure = m.secure ?? false;
      if (typeof secure !== 'boolean') problems.push('"notifications.email.secure" must be true or false');
      const port = m.port ?? (secure === true ? 465 : 587);
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) problems.push('"notifications.email.port" must be an integer 1-65535');
      if (m.requireTls !== undefined && typeof m.requireTls !== 'boolean') problems.push('"notifications.email.requireTls" must be true or false');
      if (typeof m.from !== 'string' || !m.from.includes('@')) problems.push('"notifications.email.from" must be an e-mail address');
      if (!Array.isArray(m.to) || m.to.length === 0 || !m.to.every((t) => typeof t === 'string' && t.includes('@'))) problems.push('"notifications.email.to" must list e-mail addresses');
      const mail: NonNullable<NotificationsConfig['email']> = {
        host: String(m.host),
        port: port as number,
        secure: secure === true,
        requireTls: m.requireTls === true,
        from: String(m.from),
        to: Array.isArray(m.to) ? (m.to as string[]) : [],
        timeoutSeconds: seconds(m.timeoutSeconds, 'notifications.email.timeoutSeconds', 30),
      };
      if (m.auth !== undefined) {
        const a = m.auth;
        if (!isObj(a) || typeof a.username !== 'string' || a.username === '') problems.push('"notifications.email.auth" must be {username, secret}');
        else {
          unknown(a, 'notifications.email.auth', ['username', 'secret']);
          const s = secret(a.secret, 'notifications.email.auth.secret');
          if (s) mail.auth = { username: a.username, secret: s };
        }
      }
      out.email = mail;
    }
  }
  return out;
}
