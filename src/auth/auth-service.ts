// Use cases of authentication over a UserStore: users, passwords, API tokens, sessions.
// The HTTP auth plugin and the `users` CLI command both go through this class.
import { AppError } from '../core/errors.ts';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.ts';
import type { Role } from './roles.ts';
import { newSecret, newToken, sha256Hex, TOKEN_PREFIX } from './secrets.ts';
import type { ApiToken, Session, User } from './user.ts';
import type { UserStore } from './user-store.ts';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const PROJECT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TOKEN_NAME_MAX = 100;

export interface AuthServiceOptions {
  store: UserStore;
  /** Session lifetime from login (absolute). */
  sessionTtlSeconds?: number;
  /** How long a verified Basic credential skips argon2 (scripts send it on every request). */
  basicCacheSeconds?: number;
  now?: () => Date;
}

export interface CreatedToken {
  /** Shown once; only its hash is stored. */
  token: string;
  info: ApiToken;
}

export interface CreatedSession {
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

interface CacheEntry {
  userId: string;
  passwordHash: string;
  expires: number;
}

export function validateUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new AppError('AUTH_INVALID', { detail: 'user name must be 1-64 characters: letters, digits and . _ @ - (starting with a letter or digit)' });
  }
}

function validateAccess(roles: readonly Role[], projects: readonly string[]): void {
  if (roles.length === 0) throw new AppError('AUTH_INVALID', { detail: 'a user needs at least one role' });
  for (const p of projects) {
    if (p !== '*' && !PROJECT.test(p)) throw new AppError('AUTH_INVALID', { detail: `project name "${p}" is not valid (letters, digits, . _ -)` });
  }
}

export class AuthService {
  readonly store: UserStore;
  readonly sessionTtlSeconds: number;
  readonly #basicCacheMs: number;
  readonly #basicCache = new Map<string, CacheEntry>();
  readonly #now: () => Date;

  constructor(opts: AuthServiceOptions) {
    this.store = opts.store;
    this.sessionTtlSeconds = opts.sessionTtlSeconds ?? 12 * 3600;
    this.#basicCacheMs = (opts.basicCacheSeconds ?? 60) * 1000;
    this.#now = opts.now ?? (() => new Date());
  }

  async addUser(username: string, password: string, roles: Role[], projects: string[] = []): Promise<User> {
    validateUsername(username);
    validateAccess(roles, projects);
    const passwordHash = await hashPassword(password);
    return this.store.createUser({ username, passwordHash, roles, projects });
  }

  async setPassword(username: string, password: string): Promise<void> {
    const passwordHash = await hashPassword(password);
    if (!(await this.store.setPasswordHash(username, passwordHash))) throw new AppError('AUTH_USER_UNKNOWN', { detail: username });
    this.#basicCache.clear();
  }

  async updateAccess(username: string, access: { roles?: Role[]; projects?: string[]; disabled?: boolean }): Promise<void> {
    const current = await this.store.getUser(username);
    if (!current) throw new AppError('AUTH_USER_UNKNOWN', { detail: username });
    validateAccess(access.roles ?? current.roles, access.projects ?? current.projects);
    await this.store.updateAccess(username, access);
  }

  async removeUser(username: string): Promise<void> {
    if (!(await this.store.removeUser(username))) throw new AppError('AUTH_USER_UNKNOWN', { detail: username });
    this.#basicCache.clear();
  }

  listUsers(): Promise<User[]> {
    return this.store.listUsers();
  }

  /** The user when the password matches and the account is enabled; undefined otherwise. */
  async checkPassword(username: string, password: string): Promise<User | undefined> {
    const u = await this.store.getUser(username);
    if (!u) {
      await burnPasswordCheck(password);
      return undefined;
    }
    if (!(await verifyPassword(u.passwordHash, password)) || u.disabled) return undefined;
    const { passwordHash: _h, ...user } = u;
    return user;
  }

  /**
   * checkPassword with a short cache of successful checks, for HTTP Basic where every request
   * carries the password. The cache key is a hash of name and password; a hit is honoured only
   * while the stored hash is unchanged and the user is enabled.
   */
  async checkBasic(username: string, password: string): Promise<User | undefined> {
    const key = sha256Hex(`${username}\u0000${password}`);
    const now = this.#now().getTime();
    const hit = this.#basicCache.get(key);
    if (hit !== undefined && hit.expires > now) {
      const u = await this.store.getUserById(hit.userId);
      if (u && !u.disabled && u.passwordHash === hit.passwordHash) {
        const { passwordHash: _h, ...user } = u;
        return user;
      }
    }
    this.#basicCache.delete(key);
    const user = await this.checkPassword(username, password);
    if (user !== undefined) {
      const stored = await this.store.getUserById(user.id);
      if (this.#basicCache.size > 1000) this.#basicCache.clear();
      if (stored) this.#basicCache.set(key, { userId: user.id, passwordHash: stored.passwordHash, expires: now + this.#basicCacheMs });
    }
    return user;
  }

  async createToken(username: string, name: string, expiresInDays: number | null): Promise<CreatedToken> {
    const u = await this.store.getUser(username);
    if (!u) throw new AppError('AUTH_USER_UNKNOWN', { detail: username });
    if (name.length === 0 || name.length > TOKEN_NAME_MAX) throw new AppError('AUTH_INVALID', { detail: `token name must be 1-${TOKEN_NAME_MAX} characters` });
    if (expiresInDays !== null && !(Number.isFinite(expiresInDays) && expiresInDays > 0 && expiresInDays <= 3650)) {
      throw new AppError('AUTH_INVALID', { detail: 'token expiry must be 1-3650 days' });
    }
    const token = newToken();
    const expiresAt = expiresInDays === null ? null : new Date(this.#now().getTime() + expiresInDays * 86_400_000).toISOString();
    const info = await this.store.createToken({ userId: u.id, name, tokenHash: sha256Hex(token), expiresAt });
    return { token, info };
  }

  async revokeToken(id: string): Promise<void> {
    if (!(await this.store.revokeToken(id, this.#now().toISOString()))) throw new AppError('AUTH_USER_UNKNOWN', { detail: `token ${id} (unknown or already revoked)` });
  }

  async listTokens(username?: string): Promise<ApiToken[]> {
    if (username === undefined) return this.store.listTokens();
    const u = await this.store.getUser(username);
    if (!u) throw new AppError('AUTH_USER_UNKNOWN', { detail: username });
    return this.store.listTokens(u.id);
  }

  /** The token's user when the token is known, not revoked, not expired, and the user enabled. */
  async authenticateToken(token: string): Promise<{ user: User; token: ApiToken } | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const t = await this.store.findTokenByHash(sha256Hex(token));
    const now = this.#now();
    if (!t || t.revokedAt !== null || (t.expiresAt !== null && Date.parse(t.expiresAt) <= now.getTime())) return undefined;
    const u = await this.store.getUserById(t.userId);
    if (!u || u.disabled) return undefined;
    await this.store.markTokenUsed(t.id, now.toISOString());
    const { passwordHash: _h, ...user } = u;
    return { user, token: t };
  }

  async createSession(user: User): Promise<CreatedSession> {
    const sessionId = newSecret();
    const now = this.#now();
    const session: Session = {
      userId: user.id,
      csrfToken: newSecret(),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.sessionTtlSeconds * 1000).toISOString(),
    };
    await this.store.deleteExpiredSessions(session.createdAt);
    await this.store.createSession(sha256Hex(sessionId), session);
    return { sessionId, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
  }

  async resolveSession(sessionId: string): Promise<{ user: User; session: Session } | undefined> {
    const s = await this.store.findSession(sha256Hex(sessionId));
    if (!s || Date.parse(s.expiresAt) <= this.#now().getTime()) return undefined;
    const u = await this.store.getUserById(s.userId);
    if (!u || u.disabled) return undefined;
    const { passwordHash: _h, ...user } = u;
    return { user, session: s };
  }

  endSession(sessionId: string): Promise<void> {
    return this.store.deleteSession(sha256Hex(sessionId));
  }
}

/** Whether a user may reach a project's data. Admin reaches every project. */
export function canAccessProject(user: Pick<User, 'roles' | 'projects'>, project: string): boolean {
  return user.roles.includes('admin') || user.projects.includes(project) || user.projects.includes('*');
}

/** Password hash marker of users that log in through OIDC only: never verifies as a password. */
export const EXTERNAL_PASSWORD_HASH = '!external';

/**
 * The local record of a user authenticated by an identity provider, created on first login and
 * updated to the provider's roles and projects on each login. A local password user of the same
 * name is never taken over.
 */
export async function provisionExternalUser(store: UserStore, username: string, roles: Role[], projects: string[]): Promise<User> {
  validateUsername(username);
  const existing = await store.getUser(username);
  if (existing && existing.passwordHash !== EXTERNAL_PASSWORD_HASH) {
    throw new AppError('AUTH_FORBIDDEN', { detail: `"${username}" is a local account; it cannot log in through the identity provider` });
  }
  if (existing?.disabled) throw new AppError('AUTH_FORBIDDEN', { detail: `"${username}" is disabled` });
  if (!existing) return store.createUser({ username, passwordHash: EXTERNAL_PASSWORD_HASH, roles, projects });
  await store.updateAccess(username, { roles, projects });
  const { passwordHash: _h, ...user } = { ...existing, roles, projects };
  return user;
}
