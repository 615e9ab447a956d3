// Authentication and authorisation for EVERY route of the one HTTP server.
// Credentials: HTTP Basic (scripts, as Orthanc), bearer API tokens, session cookie (the UI).
// Authorisation: each route declares `config: { role }` (a Role, a list, or 'authenticated') or
// `config: { public: true }`; a route with neither answers 403 to everyone, so a forgotten route
// fails closed (and is logged at start-up). Installed on the root instance before the surfaces
// are registered, so every child context inherits the hook.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../auth/audit-log.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { LoginRateLimiter } from '../auth/login-rate-limiter.ts';
import { allows, type Access } from '../auth/roles.ts';
import { safeEqual } from '../auth/secrets.ts';
import type { Session, User } from '../auth/user.ts';
import type { Logger } from '../core/log.ts';
import { CSRF_HEADER, readCookie, SESSION_COOKIE } from './auth/cookies.ts';
import { sendAuthError } from './auth/http-errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route; admin always may. Absent (and not public) means nobody. */
    role?: Access;
    /** Reachable without credentials (/health, /auth/login). */
    public?: boolean;
  }
  interface FastifyRequest {
    /** Who is calling; set by the auth hook on every non-public route. */
    principal: Principal | null;
  }
}

export interface Principal {
  user: User;
  via: 'basic' | 'token' | 'session' | 'dev';
  session?: Session;
  tokenId?: string;
}

export interface AuthHttpOptions {
  /** false only in --dev: every request acts as an admin called "dev". */
  enabled: boolean;
  service: AuthService | null;
  audit: AuditLog;
  logger: Logger;
  limiter?: LoginRateLimiter;
  /** Route URLs that are public without declaring it themselves (plugins we do not own). */
  publicRoutes?: readonly string[];
}

export const DEFAULT_PUBLIC_ROUTES: readonly string[] = ['/health'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const DEV_USER: User = { id: 'dev', username: 'dev', roles: ['admin'], projects: ['*'], disabled: false, createdAt: '1970-01-01T00:00:00.000Z' };

export function isPublicRoute(config: { public?: boolean } | undefined, url: string | undefined, publicRoutes: readonly string[]): boolean {
  return config?.public === true || (url !== undefined && publicRoutes.includes(url));
}

/** Whether the request's Origin (when a browser sent one) is this server: blocks cross-site writes. */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    // Through URL on both sides so default ports compare equal ("host:80" vs "host").
    return new URL(origin).host === new URL(`${req.protocol}://${req.host}`).host;
  } catch {
    return false;
  }
}

export function installAuth(app: FastifyInstance, opts: AuthHttpOptions): LoginRateLimiter {
  const limiter = opts.limiter ?? new LoginRateLimiter();
  const publicRoutes = opts.publicRoutes ?? DEFAULT_PUBLIC_ROUTES;
  if (!opts.enabled) {
    opts.logger.warn('AUTHENTICATION IS OFF (--dev): every HTTP client acts as admin. Never run like this where others can reach the port.');
  } else if (opts.service === null) {
    throw new Error('installAuth: authentication enabled without an AuthService');
  }
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const cfg = route.config as { role?: Access; public?: boolean } | undefined;
    if (!isPublicRoute(cfg, route.url, publicRoutes) && cfg?.role === undefined) {
      opts.logger.error('route declares no access policy; it will answer 403', { method: route.method, url: route.url });
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    const cfg = req.routeOptions.config as { role?: Access; public?: boolean } | undefined;
    const url = req.routeOptions.url;
    if (isPublicRoute(cfg, url, publicRoutes)) return;
    if (!opts.enabled) {
      req.principal = { user: DEV_USER, via: 'dev' };
      return;
    }
    const outcome = await authenticate(req, reply, opts.service!, opts.audit, limiter);
    if (outcome === 'replied') return reply;
    if (outcome === null) {
      // Browsers get no Basic challenge when they came with a cookie, so the UI shows its own form.
      if (readCookie(req, SESSION_COOKIE) === undefined) reply.header('WWW-Authenticate', 'Basic realm="dicomgate", charset="UTF-8"');
      return sendAuthError(reply, 'AUTH_REQUIRED');
    }
    req.principal = outcome;
    if (!SAFE_METHODS.has(req.method)) {
      if (!sameOrigin(req)) return sendAuthError(reply, 'AUTH_CSRF', 'cross-site request refused');
      if (outcome.via === 'session') {
        const sent = req.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || !safeEqual(sent, outcome.session!.csrfToken)) return sendAuthError(reply, 'AUTH_CSRF');
      }
    }
    // Unmatched URL: any authenticated user gets the 404; no policy to check.
    if (url === undefined) return;
    const role = cfg?.role;
    if (role === undefined) {
      opts.logger.error('request to a route without access policy refused', { method: req.method, url });
      return sendAuthError(reply, 'AUTH_FORBIDDEN', 'route has no access policy');
    }
    if (!allows(role, outcome.user.roles)) {
      void opts.audit.record({ actor: outcome.user.username, action: 'auth.denied', resource: null, ip: req.ip, outcome: 'denied', detail: { method: req.method, route: url } });
      return sendAuthError(reply, 'AUTH_FORBIDDEN');
    }
  });
  return limiter;
}

/** The caller, null without (valid) credentials, or 'replied' when a 429 was already sent. */
async function authenticate(
  req: FastifyRequest,
  reply: FastifyReply,
  service: AuthService,
  audit: AuditLog,
  limiter: LoginRateLimiter,
): Promise<Principal | null | 'replied'> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return null;
      const username = decoded.slice(0, colon);
      const key = LoginRateLimiter.key(req.ip, username);
      const gate = limiter.check(key);
      if (!gate.allowed) {
        reply.header('Retry-After', String(gate.retryAfterSeconds));
        sendAuthError(reply, 'AUTH_RATE_LIMITED');
        return 'replied';
      }
      const user = await service.checkBasic(username, decoded.slice(colon + 1));
      if (user === undefined) {
        limiter.fail(key);
        await audit.record({ actor: username, action: 'login', resource: null, ip: req.ip, outcome: 'failure', detail: { via: 'basic' } });
        return null;
      }
      limiter.succeed(key);
      return { user, via: 'basic' };
    }
    if (scheme === 'bearer') {
      const found = await service.authenticateToken(value);
      if (found === undefined) {
        await audit.record({ actor: null, action: 'login', resource: null, ip: req.ip, outcome: 'failure', detail: { via: 'token' } });
        return null;
      }
      return { user: found.user, via: 'token', tokenId: found.token.id };
    }
    return null;
  }
  const sid = readCookie(req, SESSION_COOKIE);
  if (sid !== undefined) {
    const found = await service.resolveSession(sid);
    return found === undefined ? null : { user: found.user, via: 'session', session: found.session };
  }
  return null;
}
