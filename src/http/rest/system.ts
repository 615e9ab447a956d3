// GET /system, /statistics, /changes in Orthanc's shapes.
import type { FastifyPluginAsync } from 'fastify';
import { LEVEL_PATH, LEVEL_TYPE, orthancDate } from './orthanc-json.ts';
import { READ, type RestDeps } from './rest-deps.ts';
import { readIndex } from '../archive-scope.ts';

/** The Orthanc REST API level these routes follow; clients compare it to enable features. */
export const ORTHANC_API_VERSION = '1.12.4';
const CHANGES_MAX = 10_000;

export const systemRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  const { index } = deps.archive;

  app.get('/system', { config: { role: 'authenticated' } }, async () => {
    const sys = typeof deps.system === 'function' ? deps.system() : deps.system;
    return {
      Name: 'dicomgate',
      Version: ORTHANC_API_VERSION,
      DicomgateVersion: sys.version,
      ApiVersion: 24,
      DatabaseVersion: 6,
      DicomAet: sys.aet,
      DicomPort: sys.dicomPort,
      HttpPort: sys.httpPort,
      IsHttpServerSecure: true,
      PluginsEnabled: false,
      StorageAreaPlugin: null,
      DatabaseBackendPlugin: null,
      StorageCompression: false,
      OverwriteInstances: false,
      CheckRevisions: false,
      HasLabels: true,
    };
  });

  app.get('/statistics', { config: { role: READ } }, async () => {
    const s = await index.statistics();
    const mb = Math.round(s.totalSize / (1024 * 1024));
    return {
      CountPatients: s.patients,
      CountStudies: s.studies,
      CountSeries: s.series,
      CountInstances: s.instances,
      TotalDiskSize: String(s.totalSize),
      TotalDiskSizeMB: mb,
      TotalUncompressedSize: String(s.totalSize),
      TotalUncompressedSizeMB: mb,
    };
  });

  app.get<{ Querystring: { since?: string; limit?: string } }>('/changes', { config: { role: READ } }, async (req) => {
    const since = Number(req.query.since ?? 0);
    const limit = Math.min(Number(req.query.limit ?? 100), CHANGES_MAX);
    if (!Number.isInteger(since) || since < 0 || !Number.isInteger(limit) || limit < 1) {
      const e = new Error('"since" and "limit" must be non-negative integers') as Error & { statusCode: number };
      e.statusCode = 400;
      throw e;
    }
    const page = await readIndex(req, index).changes({ since, limit });
    return {
      Changes: page.changes.map((c) => ({
        ChangeType: c.type,
        Date: orthancDate(c.date),
        ID: c.resourceId,
        Path: `/${LEVEL_PATH[c.level]}/${c.resourceId}`,
        ResourceType: LEVEL_TYPE[c.level],
        Seq: c.seq,
      })),
      Done: page.done,
      Last: page.last,
    };
  });
};
