// A read view of the archive index limited to a reader's projects (per-project access lists,
// docs/security.md). Every read surface (Orthanc REST, DICOMweb, WADO-URI) takes its index through
// this view, so a resource outside the scope is simply not there: 404 on direct access, absent
// from lists, children, archives and /changes. Writes pass through (their routes check roles).
import { inScope, type ArchiveIndex, type ChangesPage, type Level, type ProjectScope, type ResourceRecord } from './archive-index.ts';
import type { MatchQuery, QueryPage } from './matching.ts';
import { LEVELS } from './resource-ids.ts';

/** The index as `scope` sees it; the index itself when scope is undefined (everything visible). */
export function scopedIndex(base: ArchiveIndex, scope: ProjectScope | undefined): ArchiveIndex {
  if (scope === undefined) return base;
  const visible = async (r: ResourceRecord): Promise<boolean> =>
    r.level === 'instance' ? inScope(r.file?.source.project, scope) : base.isVisible(r.level, r.id, scope);
  const keep = async (rows: ResourceRecord[]): Promise<ResourceRecord[]> => {
    const out: ResourceRecord[] = [];
    for (const r of rows) if (await visible(r)) out.push(r);
    return out;
  };
  return {
    storeInstances: (records, duplicates, opts) => base.storeInstances(records, duplicates, opts),
    ...(base.syncCommitted ? { syncCommitted: () => base.syncCommitted!() } : {}),
    async getResource(level, id) {
      const r = await base.getResource(level, id);
      return r && (await visible(r)) ? r : undefined;
    },
    async findByUid(level, uid) {
      return keep(await base.findByUid(level, uid));
    },
    async listChildren(level, id) {
      const all = await base.listChildren(level, id);
      if (all.length === 0) return all;
      // One scoped query instead of a visibility check per child.
      const child = LEVELS[LEVELS.indexOf(level) + 1];
      const page = await base.query({ level: child, within: { level, id }, scope });
      const ids = new Set(page.matches.map((m) => m.id));
      return all.filter((c) => ids.has(c.id));
    },
    async listInstances(level, id) {
      return (await base.listInstances(level, id)).filter((i) => inScope(i.file?.source.project, scope));
    },
    query(q: MatchQuery): Promise<QueryPage> {
      // A caller-supplied scope can only narrow: both must hold, so intersect the project lists.
      const merged = q.scope
        ? { projects: q.scope.projects.filter((p) => scope.projects.includes(p)), unassigned: q.scope.unassigned && scope.unassigned }
        : scope;
      return base.query({ ...q, scope: merged });
    },
    deleteResource: (level, id) => base.deleteResource(level, id),
    hasBlobKey: (key) => base.hasBlobKey(key),
    statistics: () => base.statistics(),
    async changes(opts): Promise<ChangesPage> {
      // Filtered after paging, so Last/Done still walk the whole log; deletions cannot be placed
      // in a project any more and are left out.
      const page = await base.changes(opts);
      const changes = [];
      for (const c of page.changes) {
        if (c.type !== 'Deleted' && (await base.isVisible(c.level, c.resourceId, scope))) changes.push(c);
      }
      return { ...page, changes };
    },
    appendChange: (type, level: Level, id) => base.appendChange(type, level, id),
    isVisible: (level, id, s) => base.isVisible(level, id, s),
    async labels(level, id) {
      return (await base.isVisible(level, id, scope)) ? base.labels(level, id) : [];
    },
    async setLabel(level, id, label, present) {
      return (await base.isVisible(level, id, scope)) && base.setLabel(level, id, label, present);
    },
    allLabels: () => base.allLabels(scope),
    close: () => base.close(),
  };
}
