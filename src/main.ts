// Composition root: the only module that creates concrete adapters and wires services to edges.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { ResolvedConfig } from './config/schema.ts';
import { createLogger, type Logger } from './core/log.ts';
import { VERSION } from './core/version.ts';
import { resolveProject } from './deid/project.ts';
import { ingestIntake } from './dimse-server/c-store-intake.ts';
import { gatewayIntake } from './dimse-server/gateway-intake.ts';
import { startDimseServer, type DimseServer } from './dimse-server/start-dimse-server.ts';
import { openKeyStore } from './pseudonyms/open-key-store.ts';
import type { PseudonymStore } from './pseudonyms/pseudonym-store.ts';
import { StorePseudonymizer } from './pseudonyms/store-pseudonymizer.ts';
import { GatewayService, type GatewayProject } from './services/gateway.ts';
import { QuarantineStore } from './services/quarantine.ts';
import { buildHttpServer } from './http/server.ts';
import { openArchive, type Archive } from './services/archive.ts';
import { join } from 'node:path';

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
  let keys: PseudonymStore | undefined;
  try {
    // Projects are compiled before anything listens, so a typo in the config stops start-up with its reason.
    const intakeProjects = new Map(config.intakes.map((it) => [it.aet, resolveProject(it.project, config.projects)]));
    const gatewayTargets = new Map<string, GatewayProject>();
    if (intakeProjects.size > 0) {
      keys = await openKeyStore({ dataDir: config.dataDir, kind: config.index.kind, postgres: config.postgres });
      // One pseudonymizer per project, shared by all its intakes: its cache and batching are per namespace.
      const byProject = new Map<string, StorePseudonymizer>();
      for (const [aet, project] of intakeProjects) {
        const pseudonymizer = byProject.get(project.name) ?? new StorePseudonymizer(keys, project.name, project.policy);
        byProject.set(project.name, pseudonymizer);
        gatewayTargets.set(aet, { project, pseudonymizer });
      }
    }
    const dimseLog = logger.child({ component: 'dimse' });
    const gateway = new GatewayService({ ingest: archive.ingest, quarantine: new QuarantineStore(join(config.dataDir, 'quarantine')), log: logger.child({ component: 'gateway' }) });
    dimse = await startDimseServer(
      {
        ingest: archive.ingest,
        index: archive.index,
        blobs: archive.blobs,
        log: dimseLog,
        intake: gatewayIntake({
          gateway,
          projectFor: (calledAe) => gatewayTargets.get(calledAe),
          fallback: ingestIntake({ ingest: archive.ingest, blobs: archive.blobs, log: dimseLog }),
          log: dimseLog,
        }),
      },
      { ...config.dicom, host: config.host, intakeAets: [...gatewayTargets.keys()] },
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
    const keyStore = keys;
    return {
      dicomPort,
      httpPort,
      archive,
      async close() {
        await http.close();
        await running.close();
        await keyStore?.close();
        await archive.close();
      },
    };
  } catch (e) {
    await dimse?.close().catch(() => undefined);
    await keys?.close().catch(() => undefined);
    await archive.close().catch(() => undefined);
    throw e;
  }
}
