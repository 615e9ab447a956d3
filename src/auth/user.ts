// The user, token and session records the UserStore keeps. Secrets are stored only as hashes:
// argon2id for passwords, SHA-256 for API tokens and session ids (both 32 random bytes, so a
// fast hash is enough: there is nothing to brute-force).
import type { Role } from './roles.ts';

export interface User {
  id: string;
  username: string;
  roles: Role[];
  /** Project names this user may reach (ignored for admin, who reaches all). */
  projects: string[];
  disabled: boolean;
  createdAt: string;
}

export interface UserWithSecret extends User {
  passwordHash: string;
}

export interface ApiToken {
  id: string;
  userId: string;
  /** A label chosen by the user ("pydicer laptop"); never the token. */
  name: string;
  createdAt: string;
  /** ISO time after which the token is refused; null never expires. */
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface Session {
  userId: string;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}
