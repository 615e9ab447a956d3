// Composition root: the only module that creates concrete adapters and wires services to edges.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { ResolvedConfig } from './config/schema.ts';
import { createLogger, type Logger } from './core/log.ts';
import { VERSION } from './core/version.ts';
import { resolveProject, type Project } from './deid/project.ts';
import { authenticateWith } from './dimse-server/user-identity.ts';
import type { OidcSettings } from './http/auth/oidc-routes.ts';
import { ingestIntake } from './dimse-server/c-store-intake.ts';
import { gatewayIntake } from './dimse-server/gateway-intake.ts';
import { startDimseServer, type DimseServer } from './dimse-server/start-dimse-server.ts';
import { openKeyStore } from './pseudonyms/open-key-store.ts';
import type { PseudonymStore } from './pseudonyms/pseudonym-store.ts';
import { StorePseudonymizer } from './pseudonyms/store-pseudonymizer.ts';
import { GatewayService, type GatewayProject } from './services/gateway.ts';
import { QuarantineStore } from './services/quarantine.ts';
import { openAuth } from './auth/open-auth.ts';
import { LoginRateLimiter } from './auth/login-rate-limiter.ts';
import { AppError } from './core/errors.ts';
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
  let auth: Awaited<ReturnType<typeof openAuth>> | undefined;
  try {
    auth = await openAuth({
      dataDir: config.dataDir,
      enabled: config.auth.enabled,
      env: process.env,
      logger: logger.child({ component: 'auth' }),
      sessionTtlSeconds: config.auth.sessionHours * 3600,
      ...(config.index.kind === 'postgres' && config.postgres.url ? { postgres: { url: config.postgres.url.reveal(), schema: config.postgres.schema } } : {}),
    });
    if (!auth.readiness.ok) throw new AppError('AUTH_NOT_READY', { detail: auth.readiness.message });
    // Projects are compiled before anything listens, so a typo in the config stops start-up with its reason.
    const intakeProjects = new Map(config.intakes.map((it) => [it.aet, resolveProject(it.project, config.projects)]));
    const gatewayTargets = new Map<string, GatewayProject>();
    // The key database backs gateway intakes, gateway STOW routes and /anonymize alike.
    keys = await openKeyStore({ dataDir: config.dataDir, kind: config.index.kind, postgres: config.postgres });
    const keyStore = keys;
    const pseudonymizers = new Map<string, StorePseudonymizer>();
    const pseudonymizerFor = (project: Project): StorePseudonymizer => {
      let p = pseudonymizers.get(project.name);
      if (!p) pseudonymizers.set(project.name, (p = new StorePseudonymizer(keyStore, project.name, project.policy)));
      return p;
    };
    // One pseudonymizer per project, shared by all its intakes: its cache and batching are per namespace.
    for (const [aet, project] of intakeProjects) gatewayTargets.set(aet, { project, pseudonymizer: pseudonymizerFor(project) });
    const dimseLog = logger.child({ component: 'dimse' });
    const gateway = new GatewayService({ ingest: archive.ingest, quarantine: new QuarantineStore(join(config.dataDir, 'quarantine')), log: logger.child({ component: 'gateway' }) });
    dimse = await startDimseServer(
      {
        ingest: archive.ingest,
        index: archive.index,
        blobs: archive.blobs,
        log: dimseLog,
        ...(auth.service ? { authenticate: authenticateWith(auth.service) } : {}),
        intake: gatewayIntake({
          gateway,
          projectFor: (calledAe) => gatewayTargets.get(calledAe),
          fallback: ingestIntake({ ingest: archive.ingest, blobs: archive.blobs, log: dimseLog }),
          log: dimseLog,
        }),
      },
      // User identity on DIMSE is checked when a peer sends one; requiring it of every peer would shut
      // out the many modalities and TPSs that cannot send one, so the calling-AE allow-list guards those.
      { ...config.dicom, host: config.host, intakeAets: [...gatewayTargets.keys()] },
    );
    let httpPort = 0;
    const dicomPort = dimse.port;
    const projectByName = (name: string): GatewayProject | undefined => {
      try {
        const project = resolveProject(name, config.projects);
        return { project, pseudonymizer: pseudonymizerFor(project) };
      } catch {
        return undefined;
      }
    };
    const http = await buildHttpServer({
      logger: logger.child({ component: 'http' }),
      health: async () => ({ status: 'ok', version: VERSION, uptimeSeconds: Math.round((Date.now() - started) / 1000), checks: {} }),
      bodyLimitBytes: config.http.uploadLimitMiB * 1024 * 1024,
      trustProxy: config.http.trustProxy,
      ...(config.http.tlsCertFile && config.http.tlsKeyFile ? { tls: { certFile: config.http.tlsCertFile, keyFile: config.http.tlsKeyFile } } : {}),
      surfaces: {
        auth: {
          enabled: config.auth.enabled,
          service: auth.service,
          audit: auth.audit,
          limiter: new LoginRateLimiter({ maxFailures: config.auth.loginMaxFailures, windowSeconds: config.auth.loginWindowSeconds }),
          ...(oidcSettings(config) ? { oidc: oidcSettings(config)! } : {}),
        },
        rest: {
          archive,
          system: () => ({ aet: config.dicom.aet, dicomPort, httpPort, version: VERSION }),
          uploadLimitBytes: config.http.uploadLimitMiB * 1024 * 1024,
          anonymize: { projects: config.projects, defaultProject: config.http.defaultAnonymizeProject, pseudonymizerFor },
        },
        gateway: { gateway, projectFor: projectByName },
      },
      ui: { ...(config.auth.oidc.issuer ? { oidcLogin: { label: config.auth.oidc.label } } : {}) },
    });
    await http.listen({ port: config.http.port, host: config.host });
    httpPort = (http.server.address() as AddressInfo).port;
    // One line scripts and tests wait for (the CLI contract): the ports actually bound.
    logger.info(`listening dicom=${dicomPort} http=${httpPort}`, { dicomPort, httpPort, aet: config.dicom.aet, dataDir: config.dataDir, auth: config.auth.enabled });
    const running = dimse;
    const authRuntime = auth;
    return {
      dicomPort,
      httpPort,
      archive,
      async close() {
        await http.close();
        await running.close();
        await keyStore.close();
        await authRuntime.close();
        await archive.close();
      },
    };
  } catch (e) {
    await dimse?.close().catch(() => undefined);
    await keys?.close().catch(() => undefined);
    await auth?.close().catch(() => undefined);
    await archive.close().catch(() => undefined);
    throw e;
  }
}

function oidcSettings(config: ResolvedConfig): OidcSettings | undefined {
  const o = config.auth.oidc;
  if (o.issuer === null) return undefined;
  return {
    issuer: o.issuer,
    clientId: o.clientId,
    clientSecret: o.clientSecret?.reveal() ?? null,
    redirectUri: o.redirectUri,
    rolesClaim: o.rolesClaim,
    rolePrefix: o.rolePrefix,
    projectsClaim: o.projectsClaim,
    usernameClaim: o.usernameClaim,
    afterLogin: o.afterLogin,
  };
}
