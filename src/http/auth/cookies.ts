// The two cookies of a browser session. The session cookie is httpOnly (scripts cannot read it);
// the CSRF cookie is readable so the UI can echo it in X-CSRF-Token (double submit, checked
// against the value stored with the session). Both SameSite=Strict, and Secure over TLS.
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'dicomgate_session';
export const CSRF_COOKIE = 'dicomgate_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v === '' ? undefined : v;
    }
  }
  return undefined;
}

function cookie(name: string, value: string, opts: { httpOnly: boolean; secure: boolean; maxAgeSeconds: number }): string {
  const parts = [`${name}=${value}`, 'Path=/', 'SameSite=Strict', `Max-Age=${opts.maxAgeSeconds}`];
  if (opts.httpOnly) parts.push('HttpOnly');
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

export function setSessionCookies(reply: FastifyReply, req: FastifyRequest, sessionId: string, csrfToken: string, maxAgeSeconds: number): void {
  const secure = req.protocol === 'https';
  reply.header('Set-Cookie', [
    cookie(SESSION_COOKIE, sessionId, { httpOnly: true, secure, maxAgeSeconds }),
    cookie(CSRF_COOKIE, csrfToken, { httpOnly: false, secure, maxAgeSeconds }),
  ]);
}

export function clearSessionCookies(reply: FastifyReply, req: FastifyRequest): void {
  const secure = req.protocol === 'https';
  reply.header('Set-Cookie', [
    cookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAgeSeconds: 0 }),
    cookie(CSRF_COOKIE, '', { httpOnly: false, secure, maxAgeSeconds: 0 }),
  ]);
}
