// Which archive data a user may read (per-project access lists, docs/security.md "Project access"),
// shared by the HTTP surfaces and DIMSE associations that carry a user identity.
import type { User } from '../auth/user.ts';
import type { ProjectScope } from '../index/archive-index.ts';

/** The default name of the pseudo-project that grants data stored without a project. */
export const DEFAULT_ARCHIVE_PROJECT = 'archive';

/**
 * Admin and users with project "*" see everything (undefined). Anyone else sees the projects on
 * their list, and data stored without a project only when `archiveProject` is on it. No user: nothing.
 */
export function projectScopeOf(user: Pick<User, 'roles' | 'projects'> | undefined, archiveProject: string): ProjectScope | undefined {
  if (user === undefined) return { projects: [], unassigned: false };
  if (user.roles.includes('admin') || user.projects.includes('*')) return undefined;
  return { projects: user.projects, unassigned: user.projects.includes(archiveProject) };
}
