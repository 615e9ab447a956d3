// Composition root: the only module that creates concrete adapters and wires services to edges.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { ResolvedConfig } from './config/schema.ts';
import { createLogger, type Logger } from './core/log.ts';
import { VERSION } from './core/version.ts';
import { buildHttpServer } from './http/server.ts';

export interface RunningServer {
  dicomPort: number | null;
  httpPort: number;
  close(): Promise<void>;
}

export async function startServer(config: ResolvedConfig, logger: Logger = createLogger({ level: config.log.level })): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const started = Date.now();
  const http = await buildHttpServer({
    logger: logger.child({ component: 'http' }),
    health: async () => ({ status: 'ok', version: VERSION, uptimeSeconds: Math.round((Date.now() - started) / 1000), checks: {} }),
  });
  await http.listen({ port: config.http.port, host: config.host });
  const httpPort = (http.server.address() as AddressInfo).port;
  const dicomPort: number | null = null;
  // One line scripts and tests wait for (the CLI contract): the ports actually bound.
  logger.info(`listening dicom=${dicomPort ?? 'off'} http=${httpPort}`, { dicomPort, httpPort, dataDir: config.dataDir, auth: config.auth.enabled });
  return {
    dicomPort,
    httpPort,
    async close() {
      await http.close();
    },
  };
}
