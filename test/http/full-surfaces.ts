// What "all surfaces" means for the route-policy test: grows as surfaces are added.
import type { HarnessOptions } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';
import { GatewayService } from '../../src/services/gateway.ts';
import { QuarantineStore } from '../../src/services/quarantine.ts';
import { silentLogger } from '../../src/core/log.ts';
import { uiPlugin } from '../../src/http/ui/ui-plugin.ts';
import { brokerSetup } from './broker-harness.ts';

export async function fullSurfaceOptions(): Promise<{ harness: HarnessOptions; minRoutes: number; close(): Promise<void> }> {
  const archive = memoryArchive();
  // OIDC routes are public; the issuer is a closed loopback port, so discovery fails fast (503).
  const oidc = {
    issuer: 'http://127.0.0.1:1',
    clientId: 'dicomgate',
    clientSecret: null,
    redirectUri: 'http://localhost/auth/oidc/callback',
    rolesClaim: 'roles',
    rolePrefix: '',
    projectsClaim: null,
    usernameClaim: 'preferred_username',
    afterLogin: '/',
    allowInsecureIssuer: true,
  };
  // Never reached: every request here stops at authentication or authorisation.
  const gateway = { gateway: new GatewayService({ ingest: archive.rest.archive.ingest, quarantine: new QuarantineStore('/nonexistent'), log: silentLogger }), projectFor: () => undefined };
  // The web UI's routes are public (code, no data); registered as server.ts does.
  const extra = async (app: Parameters<NonNullable<HarnessOptions['extra']>>[0]) => {
    await app.register(uiPlugin, { logger: silentLogger });
  };
  // The broker and projects surfaces, over their own scratch adapters (never reached either).
  const broker = await brokerSetup();
  // POST /studies/{id}/send (manual route trigger), never reached either.
  // /routes (destination status, dead letters, retry, test): one destination, never reached either.
  const never = () => Promise.reject(new Error('not reached'));
  const routes = {
    destinations: [{ name: 'PACS', kind: 'dicom' as const, target: 'PACS@127.0.0.1:1', source: 'destinations' as const }],
    queues: { has: () => true, queued: never, deadLetters: never, retryDeadLetter: never, test: never },
    getJob: never,
  };
  const rest = { ...archive.rest, studySend: { send: async () => [] }, gatewayUpload: { ...gateway, uploadLimitBytes: 1024 }, routes };
  const surfaces = { rest, gateway, broker: broker.surfaces.broker, projects: broker.surfaces.projects };
  return {
    harness: { surfaces, oidc, extra },
    minRoutes: 100,
    async close() {
      await archive.close();
      await broker.close();
    },
  };
}
