// UserStore and AuditStore on PostgreSQL (sites with index.kind "postgres"). One pool, a schema
// of its own choosing (search_path set per connection), the same rows as the SQLite stores.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { AppError } from '../../core/errors.ts';
import type { AuditEvent, AuditQuery, AuditStore, StoredAuditEvent } from '../audit-event.ts';
import { isRole, type Role } from '../roles.ts';
import { AUDIT_MAX_PAGE } from '../sqlite-audit-store.ts';
import type { ApiToken, Session, User, UserWithSecret } from '../user.ts';
import type { NewToken, NewUser, UserStore } from '../user-store.ts';
import { migratePgAuthSchema } from './pg-auth-schema.ts';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

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

const USER_COLS = 'id, username, password_hash, roles, projects, disabled, created_at';
const TOKEN_COLS = 'id, user_id, name, created_at, expires_at, revoked_at, last_used_at';

function toUser(r: UserRow): UserWithSecret {
  return {
    id: r.id,
    username: r.username,
    passwordHash: r.password_hash,
    roles: (JSON.parse(r.roles) as string[]).filter(isRole) as Role[],
    projects: JSON.parse(r.projects) as string[],
    disabled: Number(r.disabled) !== 0,
    createdAt: r.created_at,
  };
}

function publicUser(u: UserWithSecret): User {
  const { passwordHash: _h, ...rest } = u;
  return rest;
}

function toToken(r: TokenRow): ApiToken {
  return { id: r.id, userId: r.user_id, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at };
}

export class PgAuth implements UserStore, AuditStore {
  readonly #pool: pg.Pool;
  readonly #now: () => Date;

  private constructor(pool: pg.Pool, now: () => Date) {
    this.#pool = pool;
    this.#now = now;
  }

  /** Connects with `connectionString`, creates `schema` and the tables when missing. */
  static async open(connectionString: string, schema: string, opts: { now?: () => Date; max?: number } = {}): Promise<PgAuth> {
    if (!SCHEMA_NAME.test(schema)) throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: `invalid schema name "${schema}"` });
    const pool = new pg.Pool({ connectionString, max: opts.max ?? 4, options: `-c search_path=${schema}` });
    try {
      const client = await pool.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await migratePgAuthSchema(client);
      } finally {
        client.release();
      }
    } catch (cause) {
      await pool.end().catch(() => undefined);
      throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: 'cannot open the PostgreSQL auth tables', cause });
    }
    return new PgAuth(pool, opts.now ?? (() => new Date()));
  }

  async #q<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(sql, params);
    } catch (cause) {
      if ((cause as { code?: string }).code === '23505' && what === 'create user') throw new AppError('AUTH_USER_EXISTS', { detail: String(params[1]), cause });
      throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: what, cause });
    }
  }

  async countUsers(): Promise<number> {
    return Number((await this.#q<{ n: string }>('count users', 'SELECT COUNT(*) AS n FROM auth_users')).rows[0].n);
  }

  async createUser(u: NewUser): Promise<User> {
    const row: UserRow = { id: randomUUID(), username: u.username, password_hash: u.passwordHash, roles: JSON.stringify(u.roles), projects: JSON.stringify(u.projects), disabled: 0, created_at: this.#now().toISOString() };
    await this.#q('create user', `INSERT INTO auth_users (${USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [row.id, row.username, row.password_hash, row.roles, row.projects, row.disabled, row.created_at]);
    return publicUser(toUser(row));
  }

  async getUser(username: string): Promise<UserWithSecret | undefined> {
    const r = (await this.#q<UserRow>('read user', `SELECT ${USER_COLS} FROM auth_users WHERE username = $1`, [username])).rows[0];
    return r ? toUser(r) : undefined;
  }

  async getUserById(id: string): Promise<UserWithSecret | undefined> {
    const r = (await this.#q<UserRow>('read user', `SELECT ${USER_COLS} FROM auth_users WHERE id = $1`, [id])).rows[0];
    return r ? toUser(r) : undefined;
  }

  async listUsers(): Promise<User[]> {
    return (await this.#q<UserRow>('list users', `SELECT ${USER_COLS} FROM auth_users ORDER BY username`)).rows.map((r) => publicUser(toUser(r)));
  }

  async removeUser(username: string): Promise<boolean> {
    // Tokens and sessions go with the user (ON DELETE CASCADE).
    return ((await this.#q('remove user', 'DELETE FROM auth_users WHERE username = $1', [username])).rowCount ?? 0) > 0;
  }

  async setPasswordHash(username: string, passwordHash: string): Promise<boolean> {
    const r = await this.#q<{ id: string }>('set password', 'UPDATE auth_users SET password_hash = $1 WHERE username = $2 RETURNING id', [passwordHash, username]);
    if (r.rows.length === 0) return false;
    await this.#q('set password', 'DELETE FROM auth_sessions WHERE user_id = $1', [r.rows[0].id]);
    return true;
  }

  async updateAccess(username: string, access: { roles?: Role[]; projects?: string[]; disabled?: boolean }): Promise<boolean> {
    const sets: string[] = [];
    const params: unknown[] = [];
    if (access.roles !== undefined) params.push(JSON.stringify(access.roles)), sets.push(`roles = $${params.length}`);
    if (access.projects !== undefined) params.push(JSON.stringify(access.projects)), sets.push(`projects = $${params.length}`);
    if (access.disabled !== undefined) params.push(access.disabled ? 1 : 0), sets.push(`disabled = $${params.length}`);
    params.push(username);
    if (sets.length === 0) return (await this.#q('update user', 'SELECT 1 FROM auth_users WHERE username = $1', [username])).rows.length > 0;
    return ((await this.#q('update user', `UPDATE auth_users SET ${sets.join(', ')} WHERE username = $${params.length}`, params)).rowCount ?? 0) > 0;
  }

  async createToken(t: NewToken): Promise<ApiToken> {
    const row: TokenRow = { id: randomUUID(), user_id: t.userId, name: t.name, created_at: this.#now().toISOString(), expires_at: t.expiresAt, revoked_at: null, last_used_at: null };
    await this.#q('create token', 'INSERT INTO auth_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [row.id, row.user_id, row.name, t.tokenHash, row.created_at, row.expires_at]);
    return toToken(row);
  }

  async findTokenByHash(tokenHash: string): Promise<ApiToken | undefined> {
    const r = (await this.#q<TokenRow>('read token', `SELECT ${TOKEN_COLS} FROM auth_tokens WHERE token_hash = $1`, [tokenHash])).rows[0];
    return r ? toToken(r) : undefined;
  }

  async listTokens(userId?: string): Promise<ApiToken[]> {
    const r =
      userId === undefined
        ? await this.#q<TokenRow>('list tokens', `SELECT ${TOKEN_COLS} FROM auth_tokens ORDER BY created_at`)
        : await this.#q<TokenRow>('list tokens', `SELECT ${TOKEN_COLS} FROM auth_tokens WHERE user_id = $1 ORDER BY created_at`, [userId]);
    return r.rows.map(toToken);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    return ((await this.#q('revoke token', 'UPDATE auth_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])).rowCount ?? 0) > 0;
  }

  async markTokenUsed(id: string, at: string): Promise<void> {
    await this.#q('mark token', 'UPDATE auth_tokens SET last_used_at = $1 WHERE id = $2', [at, id]);
  }

  async createSession(idHash: string, s: Session): Promise<void> {
    await this.#q('create session', 'INSERT INTO auth_sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [idHash, s.userId, s.csrfToken, s.createdAt, s.expiresAt]);
  }

  async findSession(idHash: string): Promise<Session | undefined> {
    const r = (await this.#q<{ user_id: string; csrf_token: string; created_at: string; expires_at: string }>('read session', 'SELECT user_id, csrf_token, created_at, expires_at FROM auth_sessions WHERE id_hash = $1', [idHash])).rows[0];
    return r ? { userId: r.user_id, csrfToken: r.csrf_token, createdAt: r.created_at, expiresAt: r.expires_at } : undefined;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.#q('delete session', 'DELETE FROM auth_sessions WHERE id_hash = $1', [idHash]);
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return (await this.#q('purge sessions', 'DELETE FROM auth_sessions WHERE expires_at <= $1', [now])).rowCount ?? 0;
  }

  async append(e: AuditEvent): Promise<number> {
    const r = await this.#q<{ seq: string }>('append audit record', 'INSERT INTO audit_log (at, actor, action, resource, ip, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq', [
      e.at,
      e.actor,
      e.action,
      e.resource,
      e.ip,
      e.outcome,
      e.detail === undefined ? null : JSON.stringify(e.detail),
    ]);
    return Number(r.rows[0].seq);
  }

  async list(q: AuditQuery): Promise<StoredAuditEvent[]> {
    const where = ['seq > $1'];
    const params: unknown[] = [q.since ?? 0];
    if (q.actor !== undefined) params.push(q.actor), where.push(`actor = $${params.length}`);
    if (q.action !== undefined) params.push(q.action), where.push(`action = $${params.length}`);
    params.push(Math.min(Math.max(q.limit ?? 100, 1), AUDIT_MAX_PAGE));
    const rows = (
      await this.#q<{ seq: string; at: string; actor: string | null; action: string; resource: string | null; ip: string | null; outcome: AuditEvent['outcome']; detail: string | null }>(
        'read audit log',
        `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
        params,
      )
    ).rows;
    return rows.map((r) => {
      const e: StoredAuditEvent = { seq: Number(r.seq), at: r.at, actor: r.actor, action: r.action, resource: r.resource, ip: r.ip, outcome: r.outcome };
      if (r.detail !== null) e.detail = JSON.parse(r.detail) as StoredAuditEvent['detail'];
      return e;
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
