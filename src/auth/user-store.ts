// Port for users, API tokens and sessions. Async so a PostgreSQL implementation fits the same
// contract; the SQLite one (sqlite-user-store.ts) answers synchronously underneath.
import type { Role } from './roles.ts';
import type { ApiToken, Session, User, UserWithSecret } from './user.ts';

export interface NewUser {
  username: string;
  passwordHash: string;
  roles: Role[];
  projects: string[];
}

export interface NewToken {
  userId: string;
  name: string;
  /** hex SHA-256 of the token. */
  tokenHash: string;
  expiresAt: string | null;
}

export interface UserStore {
  countUsers(): Promise<number>;
  /** Throws AUTH_USER_EXISTS when the name is taken. */
  createUser(u: NewUser): Promise<User>;
  getUser(username: string): Promise<UserWithSecret | undefined>;
  getUserById(id: string): Promise<UserWithSecret | undefined>;
  listUsers(): Promise<User[]>;
  /** Removes the user with its tokens and sessions; false when unknown. */
  removeUser(username: string): Promise<boolean>;
  setPasswordHash(username: string, passwordHash: string): Promise<boolean>;
  updateAccess(username: string, access: { roles?: Role[]; projects?: string[]; disabled?: boolean }): Promise<boolean>;

  createToken(t: NewToken): Promise<ApiToken>;
  findTokenByHash(tokenHash: string): Promise<ApiToken | undefined>;
  listTokens(userId?: string): Promise<ApiToken[]>;
  /** False when no such token or already revoked. */
  revokeToken(id: string, at: string): Promise<boolean>;
  markTokenUsed(id: string, at: string): Promise<void>;

  createSession(idHash: string, s: Session): Promise<void>;
  findSession(idHash: string): Promise<Session | undefined>;
  deleteSession(idHash: string): Promise<void>;
  deleteExpiredSessions(now: string): Promise<number>;

  close(): Promise<void>;
}
