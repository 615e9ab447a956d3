// Roles and what a route may require. A user holds one or more roles; `admin` reaches every
// route that declares a policy. Routes declare their policy in fastify route config (see
// src/http/auth-plugin.ts): no declaration means no access, so a forgotten route fails closed.
import { AppError } from '../core/errors.ts';

export const ROLES = ['admin', 'broker', 'researcher', 'uploader'] as const;
/**
 * admin: users, configuration, deletion. broker: honest broker (key database lookups,
 * re-identification, quarantine). researcher: read and download de-identified data.
 * uploader: send data (STOW-RS, POST /instances).
 */
export type Role = (typeof ROLES)[number];

/** What a route requires: a role (or any of several), or just a logged-in user. */
export type Access = Role | readonly Role[] | 'authenticated';

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export function parseRoles(values: readonly string[]): Role[] {
  const out: Role[] = [];
  for (const v of values.flatMap((x) => x.split(','))) {
    const r = v.trim();
    if (r === '') continue;
    if (!isRole(r)) throw new AppError('AUTH_INVALID', { detail: `unknown role "${r}" (roles: ${ROLES.join(', ')})` });
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

/** Whether a user holding `roles` satisfies `access`. Admin satisfies every declared policy. */
export function allows(access: Access, roles: readonly Role[]): boolean {
  if (roles.includes('admin')) return true;
  if (access === 'authenticated') return roles.length > 0;
  const needed: readonly Role[] = typeof access === 'string' ? [access] : access;
  return needed.some((r) => roles.includes(r));
}

/** Roles that must NOT reach a route with this policy (for the route-enumeration test and docs). */
export function excludedRoles(access: Access): Role[] {
  return ROLES.filter((r) => !allows(access, [r]));
}
