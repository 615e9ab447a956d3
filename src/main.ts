// Composition root: the only module that creates concrete adapters and wires services to edges.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { ResolvedConfig } from './config/schema.ts';
import { createLogger, type Logger } from './core/log.ts';
import { VERSION } from './core/version.ts';
import { startDimseServer, type DimseServer } from './dimse-server/start-dimse-server.ts';
import { buildHttpServer } from './http/server.ts';
import { openArchive, type Archive } from './services/archive.ts';

export interface RunningServer {
  dicomPort: number;
  httpPort: number;
  archive: Archive;
  close(): Promise<void>;
}

export async function startServer(config: ResolvedConfig, logger: Logger = createLogger({ level: config.log.level })): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const started = Date.now();
  const archive = await openArchive(config.dataDir, {
    duplicates: config.storage.duplicates,
    indexKind: config.index.kind,
    postgres: config.postgres,
    log: logger.child({ component: 'archive' }),
  });
  let dimse: DimseServer | undefined;
  try {
    dimse = await startDimseServer(
      { ingest: archive.ingest, index: archive.index, blobs: archive.blobs, log: logger.child({ component: 'dimse' }) },
      { ...config.dicom, host: config.host },
    );
    const http = await buildHttpServer({
      logger: logger.child({ component: 'http' }),
      health: async () => ({ status: 'ok', version: VERSION, uptimeSeconds: Math.round((Date.now() - started) / 1000), checks: {} }),
    });
    await http.listen({ port: config.http.port, host: config.host });
    const httpPort = (http.server.address() as AddressInfo).port;
    const dicomPort = dimse.port;
    if (!config.auth.enabled) logger.warn('AUTHENTICATION IS OFF (--dev): anyone who can reach these ports can read and change the archive');
    // One line scripts and tests wait for (the CLI contract): the ports actually bound.
    logger.info(`listening dicom=${dicomPort} http=${httpPort}`, { dicomPort, httpPort, aet: config.dicom.aet, dataDir: config.dataDir, auth: config.auth.enabled });
    const running = dimse;
    return {
      dicomPort,
      httpPort,
      archive,
      async close() {
        await http.close();
        await running.close();
        await archive.close();
      },
    };
  } catch (e) {
    await dimse?.close().catch(() => undefined);
    await archive.close().catch(() => undefined);
    throw e;
  }
}
