// Per-project access lists on archive reads (docs/security.md, "Project access"). The scope is
// worked out once per request from the caller (registerSurfaces installs the hook); every read
// route takes its index through `readIndex(req, index)`, which hides resources out of scope.
import type { FastifyRequest } from 'fastify';
import type { ArchiveIndex, ProjectScope } from '../index/archive-index.ts';
import { scopedIndex } from '../index/scoped-index.ts';

export { DEFAULT_ARCHIVE_PROJECT, projectScopeOf } from '../services/project-scope.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** What archive data the caller may read; undefined: everything (admin, or projects "*"). */
    projectScope: ProjectScope | undefined;
  }
}

/** The index as this request's caller may see it. */
export function readIndex(req: FastifyRequest, index: ArchiveIndex): ArchiveIndex {
  return scopedIndex(index, req.projectScope);
}
