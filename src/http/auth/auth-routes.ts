// POST /auth/login (public), POST /auth/logout and GET /auth/me: the browser session surface.
// Scripts do not need these: they send Basic or a bearer token on every request.
import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../../auth/audit-log.ts';
import type { AuthService } from '../../auth/auth-service.ts';
import { LoginRateLimiter } from '../../auth/login-rate-limiter.ts';
import { sameOrigin } from '../auth-plugin.ts';
import { clearSessionCookies, readCookie, SESSION_COOKIE, setSessionCookies } from './cookies.ts';
import { sendAuthError } from './http-errors.ts';

export interface AuthRoutesOptions {
  /** null in --dev: login answers that authentication is off. */
  service: AuthService | null;
  audit: AuditLog;
  limiter: LoginRateLimiter;
}

const loginBody = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

export const authRoutes: FastifyPluginAsync<AuthRoutesOptions> = async (app, opts) => {
  app.post<{ Body: { username: string; password: string } }>('/auth/login', { config: { public: true }, schema: { body: loginBody } }, async (req, reply) => {
    // Login CSRF: a foreign page must not log the browser into an account of its choosing.
    if (!sameOrigin(req)) return sendAuthError(reply, 'AUTH_CSRF', 'cross-site request refused');
    if (opts.service === null) return sendAuthError(reply, 'AUTH_FORBIDDEN', 'authentication is off (--dev); no login needed');
    const { username, password } = req.body;
    const key = LoginRateLimiter.key(req.ip, username);
    const gate = opts.limiter.check(key);
    if (!gate.allowed) {
      await opts.audit.record({ actor: username, action: 'login', resource: null, ip: req.ip, outcome: 'denied', detail: { via: 'session', reason: 'rate-limited' } });
      reply.header('Retry-After', String(gate.retryAfterSeconds));
      return sendAuthError(reply, 'AUTH_RATE_LIMITED');
    }
    const user = await opts.service.checkPassword(username, password);
    if (user === undefined) {
      opts.limiter.fail(key);
      await opts.audit.record({ actor: username, action: 'login', resource: null, ip: req.ip, outcome: 'failure', detail: { via: 'session' } });
      return sendAuthError(reply, 'AUTH_REQUIRED', 'invalid user name or password');
    }
    opts.limiter.succeed(key);
    const s = await opts.service.createSession(user);
    await opts.audit.record({ actor: user.username, action: 'login', resource: null, ip: req.ip, outcome: 'success', detail: { via: 'session' } });
    setSessionCookies(reply, req, s.sessionId, s.csrfToken, opts.service.sessionTtlSeconds);
    reply.header('Cache-Control', 'no-store');
    return { username: user.username, roles: user.roles, projects: user.projects, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
  });

  app.post('/auth/logout', { config: { role: 'authenticated' } }, async (req, reply) => {
    const p = req.principal!;
    if (p.via === 'session' && opts.service !== null) {
      const sid = readCookie(req, SESSION_COOKIE);
      if (sid !== undefined) await opts.service.endSession(sid);
    }
    clearSessionCookies(reply, req);
    await opts.audit.record({ actor: p.user.username, action: 'logout', resource: null, ip: req.ip, outcome: 'success', detail: { via: p.via } });
    return reply.code(204).send();
  });

  app.get('/auth/me', { config: { role: 'authenticated' } }, async (req, reply) => {
    const p = req.principal!;
    reply.header('Cache-Control', 'no-store');
    return { username: p.user.username, roles: p.user.roles, projects: p.user.projects, via: p.via, csrfToken: p.session?.csrfToken ?? null };
  });
};
