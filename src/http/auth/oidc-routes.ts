// Optional OpenID Connect login (Keycloak and the like) through openid-client (authorization code
// flow with PKCE, state and nonce). GET /auth/oidc/login redirects to the provider; the provider
// redirects back to GET /auth/oidc/callback, which checks the ID token, maps its role claim to
// dicomgate roles, provisions the local user and opens the same session cookie as /auth/login.
import type { FastifyPluginAsync } from 'fastify';
import * as client from 'openid-client';
import type { AuditLog } from '../../auth/audit-log.ts';
import { provisionExternalUser, type AuthService } from '../../auth/auth-service.ts';
import { isRole, type Role } from '../../auth/roles.ts';
import { AppError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { setSessionCookies } from './cookies.ts';
import { sendAuthError } from './http-errors.ts';

export interface OidcSettings {
  /** Issuer URL, e.g. https://keycloak.example.org/realms/research */
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  /** This server's callback URL as registered at the provider: https://host/auth/oidc/callback */
  redirectUri: string;
  /** Dotted path of the roles claim: "realm_access.roles" (Keycloak), "roles", "groups". */
  rolesClaim: string;
  /** Only claim values with this prefix count, with the prefix removed ("dicomgate-researcher"). */
  rolePrefix: string;
  /** Dotted path of a claim listing project names; absent: no projects. */
  projectsClaim: string | null;
  usernameClaim: string;
  /** Where the browser lands after login. */
  afterLogin: string;
  /** Tests only: allow an http:// issuer (a loopback fake provider). */
  allowInsecureIssuer?: boolean;
}

export interface OidcRouteOptions {
  settings: OidcSettings;
  service: AuthService;
  audit: AuditLog;
  logger: Logger;
}

interface Pending {
  verifier: string;
  nonce: string;
  expires: number;
}

const PENDING_TTL_MS = 10 * 60 * 1000;
const MAX_PENDING = 10_000;

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), claims);
}

export function rolesFromClaims(claims: Record<string, unknown>, s: Pick<OidcSettings, 'rolesClaim' | 'rolePrefix'>): Role[] {
  const raw = claimAt(claims, s.rolesClaim);
  const values = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[ ,]/) : [];
  const out: Role[] = [];
  for (const v of values) {
    if (typeof v !== 'string' || !v.startsWith(s.rolePrefix)) continue;
    const r = v.slice(s.rolePrefix.length);
    if (isRole(r) && !out.includes(r)) out.push(r);
  }
  return out;
}

export const oidcRoutes: FastifyPluginAsync<OidcRouteOptions> = async (app, opts) => {
  const s = opts.settings;
  let config: Promise<client.Configuration> | undefined;
  const discover = () => {
    config ??= client
      .discovery(new URL(s.issuer), s.clientId, s.clientSecret ?? undefined, s.clientSecret === null ? client.None() : undefined, s.allowInsecureIssuer ? { execute: [client.allowInsecureRequests] } : undefined)
      .catch((err: unknown) => {
        config = undefined; // try again on the next login
        throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: 'OIDC provider discovery failed', cause: err });
      });
    return config;
  };
  const pending = new Map<string, Pending>();

  app.get('/auth/oidc/login', { config: { public: true } }, async (_req, reply) => {
    const cfg = await discover();
    const now = Date.now();
    for (const [k, p] of pending) if (p.expires <= now) pending.delete(k);
    if (pending.size >= MAX_PENDING) return sendAuthError(reply, 'AUTH_RATE_LIMITED');
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    pending.set(state, { verifier, nonce, expires: now + PENDING_TTL_MS });
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: s.redirectUri,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return reply.redirect(url.href);
  });

  app.get<{ Querystring: { state?: string } }>('/auth/oidc/callback', { config: { public: true } }, async (req, reply) => {
    const cfg = await discover();
    const state = req.query.state ?? '';
    const p = pending.get(state);
    pending.delete(state);
    if (!p || p.expires <= Date.now()) return sendAuthError(reply, 'AUTH_REQUIRED', 'login expired or unknown; start again');
    const current = new URL(req.url, s.redirectUri);
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(cfg, current, { pkceCodeVerifier: p.verifier, expectedState: state, expectedNonce: p.nonce, idTokenExpected: true });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
    } catch (err) {
      opts.logger.warn('OIDC code exchange refused', { err });
      await opts.audit.record({ actor: null, action: 'login', resource: null, ip: req.ip, outcome: 'failure', detail: { via: 'oidc' } });
      return sendAuthError(reply, 'AUTH_REQUIRED', 'identity provider login failed');
    }
    const username = String(claimAt(claims, s.usernameClaim) ?? '');
    const roles = rolesFromClaims(claims, s);
    if (roles.length === 0) {
      await opts.audit.record({ actor: username || null, action: 'login', resource: null, ip: req.ip, outcome: 'denied', detail: { via: 'oidc', reason: 'no dicomgate role' } });
      return sendAuthError(reply, 'AUTH_FORBIDDEN', 'the identity provider grants no dicomgate role');
    }
    const projectsRaw = s.projectsClaim === null ? [] : claimAt(claims, s.projectsClaim);
    const projects = Array.isArray(projectsRaw) ? projectsRaw.filter((x): x is string => typeof x === 'string') : [];
    const user = await provisionExternalUser(opts.service.store, username, roles, projects);
    const session = await opts.service.createSession(user);
    await opts.audit.record({ actor: user.username, action: 'login', resource: null, ip: req.ip, outcome: 'success', detail: { via: 'oidc' } });
    setSessionCookies(reply, req, session.sessionId, session.csrfToken, opts.service.sessionTtlSeconds);
    return reply.redirect(s.afterLogin);
  });
};
