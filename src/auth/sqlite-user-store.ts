// UserStore on better-sqlite3. Roles and projects are stored as JSON arrays in TEXT columns
// (portable; PostgreSQL may use jsonb later without changing the port).
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { AppError } from '../core/errors.ts';
import { isRole, type Role } from './roles.ts';
import type { ApiToken, Session, User, UserWithSecret } from './user.ts';
import type { NewToken, NewUser, UserStore } from './user-store.ts';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  roles: string;
  projects: string;
  disabled: number;
  created_at: string;
}
interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}
interface SessionRow {
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

const USER_COLS = 'id, username, password_hash, roles, projects, disabled, created_at';
const TOKEN_COLS = 'id, user_id, name, created_at, expires_at, revoked_at, last_used_at';

function toUser(r: UserRow): UserWithSecret {
  const roles = (JSON.parse(r.roles) as string[]).filter(isRole) as Role[];
  return {
    id: r.id,
    username: r.username,
    passwordHash: r.password_hash,
    roles,
    projects: JSON.parse(r.projects) as string[],
    disabled: r.disabled !== 0,
    createdAt: r.created_at,
  };
}

function publicUser(u: UserWithSecret): User {
  const { passwordHash: _drop, ...rest } = u;
  return rest;
}

function toToken(r: TokenRow): ApiToken {
  return { id: r.id, userId: r.user_id, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at };
}

export class SqliteUserStore implements UserStore {
  readonly #db: Database.Database;
  readonly #now: () => Date;

  constructor(db: Database.Database, opts: { now?: () => Date } = {}) {
    this.#db = db;
    this.#now = opts.now ?? (() => new Date());
  }

  #run<T>(what: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      if (cause instanceof AppError) return Promise.reject(cause);
      return Promise.reject(new AppError('AUTH_STORE_UNAVAILABLE', { detail: what, cause }));
    }
  }

  countUsers(): Promise<number> {
    return this.#run('count users', () => (this.#db.prepare('SELECT COUNT(*) AS n FROM auth_users').get() as { n: number }).n);
  }

  createUser(u: NewUser): Promise<User> {
    return this.#run('create user', () => {
      const row: UserRow = {
        id: randomUUID(),
        username: u.username,
        password_hash: u.passwordHash,
        roles: JSON.stringify(u.roles),
        projects: JSON.stringify(u.projects),
        disabled: 0,
        created_at: this.#now().toISOString(),
      };
      try {
        this.#db
          .prepare(`INSERT INTO auth_users (${USER_COLS}) VALUES (@id, @username, @password_hash, @roles, @projects, @disabled, @created_at)`)
          .run(row);
      } catch (cause) {
        if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new AppError('AUTH_USER_EXISTS', { detail: u.username, cause });
        }
        throw cause;
      }
      return publicUser(toUser(row));
    });
  }

  getUser(username: string): Promise<UserWithSecret | undefined> {
    return this.#run('read user', () => {
      const r = this.#db.prepare(`SELECT ${USER_COLS} FROM auth_users WHERE username = ?`).get(username) as UserRow | undefined;
      return r ? toUser(r) : undefined;
    });
  }

  getUserById(id: string): Promise<UserWithSecret | undefined> {
    return this.#run('read user', () => {
      const r = this.#db.prepare(`SELECT ${USER_COLS} FROM auth_users WHERE id = ?`).get(id) as UserRow | undefined;
      return r ? toUser(r) : undefined;
    });
  }

  listUsers(): Promise<User[]> {
    return this.#run('list users', () =>
      (this.#db.prepare(`SELECT ${USER_COLS} FROM auth_users ORDER BY username`).all() as UserRow[]).map((r) => publicUser(toUser(r))),
    );
  }

  removeUser(username: string): Promise<boolean> {
    return this.#run('remove user', () =>
      this.#db.transaction(() => {
        const u = this.#db.prepare('SELECT id FROM auth_users WHERE username = ?').get(username) as { id: string } | undefined;
        if (!u) return false;
        // Explicit deletes rather than relying on foreign_keys=ON, which is per connection.
        this.#db.prepare('DELETE FROM auth_tokens WHERE user_id = ?').run(u.id);
        this.#db.prepare('DELETE FROM auth_sessions WHERE user_id = ?').run(u.id);
        this.#db.prepare('DELETE FROM auth_users WHERE id = ?').run(u.id);
        return true;
      })(),
    );
  }

  setPasswordHash(username: string, passwordHash: string): Promise<boolean> {
    return this.#run('set password', () =>
      this.#db.transaction(() => {
        const u = this.#db.prepare('SELECT id FROM auth_users WHERE username = ?').get(username) as { id: string } | undefined;
        if (!u) return false;
        this.#db.prepare('UPDATE auth_users SET password_hash = ? WHERE id = ?').run(passwordHash, u.id);
        // A new password ends every open browser session of that user.
        this.#db.prepare('DELETE FROM auth_sessions WHERE user_id = ?').run(u.id);
        return true;
      })(),
    );
  }

  updateAccess(username: string, access: { roles?: Role[]; projects?: string[]; disabled?: boolean }): Promise<boolean> {
    return this.#run('update user', () => {
      const sets: string[] = [];
      const params: Record<string, unknown> = { username };
      if (access.roles !== undefined) {
        sets.push('roles = @roles');
        params.roles = JSON.stringify(access.roles);
      }
      if (access.projects !== undefined) {
        sets.push('projects = @projects');
        params.projects = JSON.stringify(access.projects);
      }
      if (access.disabled !== undefined) {
        sets.push('disabled = @disabled');
        params.disabled = access.disabled ? 1 : 0;
      }
      if (sets.length === 0) return this.#db.prepare('SELECT 1 FROM auth_users WHERE username = ?').get(username) !== undefined;
      return this.#db.prepare(`UPDATE auth_users SET ${sets.join(', ')} WHERE username = @username`).run(params).changes > 0;
    });
  }

  createToken(t: NewToken): Promise<ApiToken> {
    return this.#run('create token', () => {
      const row = { id: randomUUID(), user_id: t.userId, name: t.name, token_hash: t.tokenHash, created_at: this.#now().toISOString(), expires_at: t.expiresAt };
      this.#db
        .prepare('INSERT INTO auth_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES (@id, @user_id, @name, @token_hash, @created_at, @expires_at)')
        .run(row);
      return toToken({ ...row, revoked_at: null, last_used_at: null });
    });
  }

  findTokenByHash(tokenHash: string): Promise<ApiToken | undefined> {
    return this.#run('read token', () => {
      const r = this.#db.prepare(`SELECT ${TOKEN_COLS} FROM auth_tokens WHERE token_hash = ?`).get(tokenHash) as TokenRow | undefined;
      return r ? toToken(r) : undefined;
    });
  }

  listTokens(userId?: string): Promise<ApiToken[]> {
    return this.#run('list tokens', () => {
      const rows = (
        userId === undefined
          ? this.#db.prepare(`SELECT ${TOKEN_COLS} FROM auth_tokens ORDER BY created_at`).all()
          : this.#db.prepare(`SELECT ${TOKEN_COLS} FROM auth_tokens WHERE user_id = ? ORDER BY created_at`).all(userId)
      ) as TokenRow[];
      return rows.map(toToken);
    });
  }

  revokeToken(id: string, at: string): Promise<boolean> {
    return this.#run('revoke token', () => this.#db.prepare('UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0);
  }

  markTokenUsed(id: string, at: string): Promise<void> {
    return this.#run('mark token', () => {
      this.#db.prepare('UPDATE auth_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
    });
  }

  createSession(idHash: string, s: Session): Promise<void> {
    return this.#run('create session', () => {
      this.#db
        .prepare('INSERT INTO auth_sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(idHash, s.userId, s.csrfToken, s.createdAt, s.expiresAt);
    });
  }

  findSession(idHash: string): Promise<Session | undefined> {
    return this.#run('read session', () => {
      const r = this.#db.prepare('SELECT user_id, csrf_token, created_at, expires_at FROM auth_sessions WHERE id_hash = ?').get(idHash) as SessionRow | undefined;
      return r ? { userId: r.user_id, csrfToken: r.csrf_token, createdAt: r.created_at, expiresAt: r.expires_at } : undefined;
    });
  }

  deleteSession(idHash: string): Promise<void> {
    return this.#run('delete session', () => {
      this.#db.prepare('DELETE FROM auth_sessions WHERE id_hash = ?').run(idHash);
    });
  }

  deleteExpiredSessions(now: string): Promise<number> {
    return this.#run('purge sessions', () => this.#db.prepare('DELETE FROM auth_sessions WHERE expires_at <= ?').run(now).changes);
  }

  async close(): Promise<void> {
    // The database handle belongs to whoever opened it (openSqliteAuth).
  }
}
