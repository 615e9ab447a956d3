// Honest-broker operations on the key database of one project: list and search patients, look a
// patient up by pseudonym or by original ID (and a pseudonymous UID back to the original), export and
// import the mapping (CSV, CTP lookup table), delete a patient's keys. Originals travel in POST bodies
// and responses only, never in URLs (access logs, browser history); audit records name pseudonyms.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { orthancHash } from '../../index/resource-ids.ts';
import type { PatientRecord } from '../../pseudonyms/pseudonym-store.ts';
import { parseCtpLookupTable, parseMappingCsv, toMappingCsv } from '../../pseudonyms/mapping-csv.ts';
import { BROKER, mayUseProject, type BrokerDeps } from './broker-deps.ts';

type ProjectParams = { Params: { project: string } };

const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;
const IMPORT_LIMIT_BYTES = 64 * 1024 * 1024;

export interface PatientJson {
  pseudonym: string;
  pseudonymousName: string;
  originalPatientId: string;
  originalIssuer: string;
  dateShiftDays: number;
  createdAt: string;
}

export function patientJson(r: PatientRecord): PatientJson {
  return {
    pseudonym: r.pseudonym.patientId,
    pseudonymousName: r.pseudonym.patientName,
    originalPatientId: r.original.patientId,
    originalIssuer: r.original.issuer,
    dateShiftDays: r.pseudonym.dateShiftDays,
    createdAt: r.createdAt,
  };
}

function page(value: unknown, fallback: number, max: number): number {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : fallback;
}

const lookupSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      pseudonym: { type: 'string', minLength: 1, maxLength: 64 },
      patientId: { type: 'string', minLength: 1, maxLength: 64 },
      issuer: { type: 'string', maxLength: 64 },
      uid: { type: 'string', minLength: 1, maxLength: 64 },
    },
  },
} as const;

const searchSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    properties: { q: { type: 'string', maxLength: 64 }, offset: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1 } },
  },
} as const;

/** Looks like a CTP lookup table (Java properties with ptid/ keys) rather than our CSV. */
function isCtpTable(text: string): boolean {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '' && !/^\s*[#!]/.test(l));
  return first !== undefined && /^\s*ptid\//.test(first);
}

export async function brokerKeysRoutes(app: FastifyInstance, deps: BrokerDeps): Promise<void> {
  const { keys, audit } = deps;
  const actor = (req: FastifyRequest) => req.principal?.user.username ?? null;
  /** The project, if it exists and the caller may use it; unknown and forbidden answer alike. */
  const project = (req: FastifyRequest<ProjectParams>): string => {
    const name = req.params.project;
    if (deps.projectFor(name) === undefined || !mayUseProject(req, name)) throw new AppError('AUTH_FORBIDDEN', { detail: `project ${name}` });
    return name;
  };

  /** The pseudonymous patient's studies in the archive (Orthanc patient id = SHA-1 of the PatientID). */
  async function studiesOf(pseudonym: string): Promise<{ id: string; tags: Record<string, string | null> }[]> {
    const index = deps.archive?.index;
    if (index === undefined) return [];
    const patient = await index.getResource('patient', orthancHash(pseudonym));
    if (patient === undefined) return [];
    return (await index.listChildren('patient', patient.id)).map((s) => ({ id: s.id, tags: s.tags }));
  }

  app.addContentTypeParser(['text/csv', 'text/plain', 'application/octet-stream'], { parseAs: 'string', bodyLimit: IMPORT_LIMIT_BYTES }, (_req, body, done) => done(null, body));

  async function listing(req: FastifyRequest<ProjectParams>, q: string, offset: number, limit: number) {
    const name = project(req);
    const all = await keys.listPatients(name);
    const needle = q.trim().toLowerCase();
    const hits = needle === '' ? all : all.filter((r) => r.original.patientId.toLowerCase().includes(needle) || r.pseudonym.patientId.toLowerCase().includes(needle) || r.pseudonym.patientName.toLowerCase().includes(needle));
    const slice = hits.slice(offset, offset + limit);
    await audit.record({ actor: actor(req), action: 'keys.list', resource: name, ip: req.ip, outcome: 'success', detail: { project: name, searched: needle !== '', offset, returned: slice.length } });
    return { project: name, total: hits.length, offset, limit, patients: slice.map(patientJson) };
  }

  app.get<ProjectParams & { Querystring: { offset?: string; limit?: string } }>('/broker/projects/:project/patients', { config: { role: BROKER } }, async (req) =>
    listing(req, '', page(req.query.offset, 0, Number.MAX_SAFE_INTEGER), page(req.query.limit, DEFAULT_PAGE, MAX_PAGE)),
  );

  // The search text may be an original ID: it travels in the body, not the URL.
  app.post<ProjectParams & { Body: { q?: string; offset?: number; limit?: number } | undefined }>('/broker/projects/:project/patients/search', { config: { role: BROKER }, schema: searchSchema }, async (req) => {
    const b = req.body ?? {};
    return listing(req, b.q ?? '', b.offset ?? 0, Math.min(b.limit ?? DEFAULT_PAGE, MAX_PAGE));
  });

  app.post<ProjectParams & { Body: { pseudonym?: string; patientId?: string; issuer?: string; uid?: string } | undefined }>(
    '/broker/projects/:project/lookup',
    { config: { role: BROKER }, schema: lookupSchema },
    async (req, reply) => {
      const name = project(req);
      const b = req.body ?? {};
      const given = [b.pseudonym, b.patientId, b.uid].filter((v) => v !== undefined).length;
      if (given !== 1) throw new AppError('QUERY_INVALID', { detail: 'give exactly one of pseudonym, patientId (with issuer) or uid' });
      if (b.uid !== undefined) {
        const original = await keys.findOriginalUid(name, b.uid);
        await audit.record({ actor: actor(req), action: 'keys.lookup', resource: b.uid, ip: req.ip, outcome: 'success', detail: { project: name, by: 'uid', found: original !== undefined } });
        if (original === undefined) return reply.code(404).send({ error: 'INDEX_NOT_FOUND', message: 'No original UID for this UID in the project' });
        return { project: name, uid: b.uid, originalUid: original };
      }
      const by = b.pseudonym !== undefined ? 'pseudonym' : 'original';
      const found = b.pseudonym !== undefined ? await keys.findByPseudonym(name, b.pseudonym) : await keys.findByOriginal(name, { patientId: b.patientId as string, issuer: b.issuer ?? '' });
      // Looking up by original: the record names the pseudonym found, never the original asked for.
      const resource = b.pseudonym ?? found?.pseudonym.patientId ?? null;
      await audit.record({ actor: actor(req), action: 'keys.lookup', resource, ip: req.ip, outcome: 'success', detail: { project: name, by, found: found !== undefined } });
      if (found === undefined) return reply.code(404).send({ error: 'INDEX_NOT_FOUND', message: 'No patient with this key in the project' });
      return { project: name, patient: patientJson(found), studies: await studiesOf(found.pseudonym.patientId) };
    },
  );

  app.get<ProjectParams>('/broker/projects/:project/export', { config: { role: BROKER } }, async (req, reply) => {
    const name = project(req);
    const records = await keys.listPatients(name);
    await audit.record({ actor: actor(req), action: 'keys.export', resource: name, ip: req.ip, outcome: 'success', detail: { project: name, patients: records.length } });
    reply.header('Content-Type', 'text/csv; charset=utf-8');
    reply.header('Content-Disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}-keys.csv"`);
    return toMappingCsv(records);
  });

  app.post<ProjectParams & { Querystring: { format?: string }; Body: unknown }>('/broker/projects/:project/import', { config: { role: BROKER }, bodyLimit: IMPORT_LIMIT_BYTES }, async (req) => {
    const name = project(req);
    const target = deps.projectFor(name)!;
    if (typeof req.body !== 'string' || req.body.trim() === '') throw new AppError('KEYS_IMPORT_INVALID', { detail: 'send the file as text/csv or text/plain' });
    const format = req.query.format ?? (isCtpTable(req.body) ? 'ctp' : 'csv');
    if (format !== 'csv' && format !== 'ctp') throw new AppError('KEYS_IMPORT_INVALID', { detail: 'format must be csv or ctp' });
    let result;
    try {
      const rows = format === 'ctp' ? parseCtpLookupTable(req.body) : parseMappingCsv(req.body);
      result = await keys.importPatients(name, rows, target.project.policy);
    } catch (e) {
      await audit.record({ actor: actor(req), action: 'keys.import', resource: name, ip: req.ip, outcome: 'failure', detail: { project: name, format } });
      throw e;
    }
    await audit.record({ actor: actor(req), action: 'keys.import', resource: name, ip: req.ip, outcome: 'success', detail: { project: name, format, imported: result.imported, unchanged: result.unchanged, conflicts: result.conflicts } });
    return { project: name, format, ...result };
  });

  app.delete<ProjectParams & { Params: { pseudonym: string } }>('/broker/projects/:project/patients/:pseudonym', { config: { role: BROKER } }, async (req, reply) => {
    const name = project(req);
    const found = await keys.findByPseudonym(name, req.params.pseudonym);
    const deleted = found !== undefined && (await keys.deletePatient(name, found.original));
    // The project's pseudonymizer caches keys: forget them, or the next object would reuse the deleted pseudonym.
    if (deleted) (deps.projectFor(name)?.pseudonymizer as { clearCache?: () => void } | undefined)?.clearCache?.();
    await audit.record({ actor: actor(req), action: 'keys.delete', resource: req.params.pseudonym, ip: req.ip, outcome: deleted ? 'success' : 'failure', detail: { project: name, found: found !== undefined } });
    if (!deleted) return reply.code(404).send({ error: 'INDEX_NOT_FOUND', message: 'No patient with this pseudonym in the project' });
    return reply.code(204).send();
  });
}
