// Composition root: the only module that creates concrete adapters and wires services to edges.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { ResolvedConfig } from './config/schema.ts';
import { createLogger, type Logger } from './core/log.ts';
import { VERSION } from './core/version.ts';
import { resolveProject, type Project } from './deid/project.ts';
import { authenticateWith, readScopeWith } from './dimse-server/user-identity.ts';
import type { OidcSettings } from './http/auth/oidc-routes.ts';
import { ingestIntake } from './dimse-server/c-store-intake.ts';
import { gatewayIntake } from './dimse-server/gateway-intake.ts';
import { startDimseServer, type DimseServer } from './dimse-server/start-dimse-server.ts';
import { openKeyStore } from './pseudonyms/open-key-store.ts';
import type { PseudonymStore } from './pseudonyms/pseudonym-store.ts';
import { StorePseudonymizer } from './pseudonyms/store-pseudonymizer.ts';
import { GatewayService, type GatewayFilter, type GatewayProject } from './services/gateway.ts';
import { QuarantineStore } from './services/quarantine.ts';
import { openAuth } from './auth/open-auth.ts';
import { LoginRateLimiter } from './auth/login-rate-limiter.ts';
import { AppError } from './core/errors.ts';
import { buildHttpServer } from './http/server.ts';
import { JobRegistry } from './http/rest/jobs.ts';
import type { ModalityDeps, ModalityPeer } from './http/rest/modalities.ts';
import type { RouteDestinationInfo } from './http/pipeline/route-status-routes.ts';
import { INDEX_FILE, openArchive, type Archive } from './services/archive.ts';
import { join } from 'node:path';
import type { DestinationConfig } from './config/schema.ts';
import { BUILTIN_PROJECTS } from './deid/project.ts';
import { DicomPeerDestination } from './export/dicom-peer-destination.ts';
import { DiskDestination, type ItemLoader } from './export/disk-destination.ts';
import { StowDestination } from './export/stow-destination.ts';
import { openPipelineDb } from './pipeline/open-pipeline-db.ts';
import { bindsHttpIntakes, compilePipelines, httpIntakePipeline, type Pipeline, type ProjectIntake } from './pipeline/pipeline-config.ts';
import type { Destination } from './pipeline/route-queue.ts';
import { archiveItemLoader, PipelineRuntime } from './services/pipeline-runtime.ts';
import { buildNotifiers } from './notify/build-notifiers.ts';
import { peerDestination } from './pipeline/route-queue.ts';
import { stableChangeRecorder } from './services/stable-changes.ts';
import { FolderWatcher, type WatchIntake, type WatchIntakeResult } from './services/folder-watch.ts';
import type { IngestService } from './services/ingest.ts';
import { readFile } from 'node:fs/promises';

export interface RunningServer {
  dicomPort: number;
  httpPort: number;
  archive: Archive;
  pipeline: PipelineRuntime;
  close(): Promise<void>;
}

export async function startServer(config: ResolvedConfig, logger: Logger = createLogger({ level: config.log.level })): Promise<RunningServer> {
  // Pipelines are compiled (every problem at once) before anything is opened or listens.
  const pipelines = compilePipelines(config.pipelines, {
    projects: [...Object.keys(BUILTIN_PROJECTS), ...Object.keys(config.projects)],
    destinations: Object.keys(config.destinations),
  });
  const deidByAe = pipelineIntakeProjects(pipelines, config.intakes);
  mkdirSync(config.dataDir, { recursive: true });
  const started = Date.now();
  // Bound once the pipeline runtime is open (it needs the archive's index); nothing is stored before.
  let runtime: PipelineRuntime | undefined;
  const archive = await openArchive(config.dataDir, {
    duplicates: config.storage.duplicates,
    indexKind: config.index.kind,
    postgres: config.postgres,
    log: logger.child({ component: 'archive' }),
    onStored: (stored) => runtime?.onStored(stored) ?? Promise.resolve(),
  });
  let dimse: DimseServer | undefined;
  let keys: PseudonymStore | undefined;
  const watchers: FolderWatcher[] = [];
  let auth: Awaited<ReturnType<typeof openAuth>> | undefined;
  // The one PostgreSQL database (index, auth, jobs) when the index lives there.
  const pg = config.index.kind === 'postgres' && config.postgres.url ? { url: config.postgres.url.reveal(), schema: config.postgres.schema } : undefined;
  const uploadLimitBytes = config.http.uploadLimitMiB * 1024 * 1024;
  const oidc = oidcSettings(config);
  try {
    auth = await openAuth({
      dataDir: config.dataDir,
      enabled: config.auth.enabled,
      env: process.env,
      logger: logger.child({ component: 'auth' }),
      sessionTtlSeconds: config.auth.sessionHours * 3600,
      ...(pg ? { postgres: pg } : {}),
    });
    if (!auth.readiness.ok) throw new AppError('AUTH_NOT_READY', { detail: auth.readiness.message });
    // Runs with or without pipelines: Orthanc clients expect StableStudy in /changes after StableAge.
    const stableChanges = stableChangeRecorder(archive.index, logger.child({ component: 'changes' }));
    runtime = await PipelineRuntime.open({
      onStableEvents: stableChanges.onEvents,
      db: openPipelineDb(pg ? { kind: 'postgres', ...pg } : { kind: 'sqlite', path: join(config.dataDir, INDEX_FILE) }),
      index: archive.index,
      pipelines,
      destinations: buildDestinations(config.destinations, config.dicom.aet, archiveItemLoader(archive.index, archive.blobs), config.dicom.peers),
      stableAgeMs: config.stableAgeSeconds * 1000,
      jobs: {
        concurrency: config.jobs.concurrency,
        leaseMs: config.jobs.leaseSeconds * 1000,
        maxAttempts: config.jobs.maxAttempts,
        backoff: { baseMs: config.jobs.backoffInitialSeconds * 1000, maxMs: config.jobs.backoffMaxSeconds * 1000, jitter: 0.2 },
      },
      log: logger.child({ component: 'pipeline' }),
      notifications: {
        notifiers: buildNotifiers(config.notifications),
        events: config.notifications.events,
        maxAttempts: config.notifications.maxAttempts,
        backoff: { baseMs: config.jobs.backoffInitialSeconds * 1000, maxMs: config.jobs.backoffMaxSeconds * 1000, jitter: 0.2 },
        leaseMs: config.jobs.leaseSeconds * 1000,
      },
    });
    runtime.start();
    const pipelineRuntime = runtime;
    // Projects are compiled once, when first named; intake projects before anything listens, so a typo
    // in the config stops start-up with its reason.
    const compiled = new Map<string, Project>();
    const projectNamed = (name: string): Project => {
      let p = compiled.get(name);
      if (!p) compiled.set(name, (p = resolveProject(name, config.projects)));
      return p;
    };
    const intakeProjects = new Map([...deidByAe].map(([aet, project]) => [aet, projectNamed(project)]));
    const gatewayTargets = new Map<string, GatewayProject>();
    // The key database backs gateway intakes, gateway STOW routes and /anonymize alike.
    keys = await openKeyStore({ dataDir: config.dataDir, kind: config.index.kind, postgres: config.postgres });
    const keyStore = keys;
    const pseudonymizers = new Map<string, StorePseudonymizer>();
    const pseudonymizerFor = (project: Project): StorePseudonymizer => {
      let p = pseudonymizers.get(project.name);
      // Early answers: a mapping is used as soon as its transaction committed, and its WAL flush runs
      // while the object is encoded and written; every consumer (the gateway's ingest, /anonymize)
      // waits for `durable` before anything made with it is published.
      if (!p) pseudonymizers.set(project.name, (p = new StorePseudonymizer(keyStore, project.name, project.policy, { earlyAnswers: true })));
      return p;
    };
    // One pseudonymizer per project, shared by all its intakes: its cache and batching are per namespace.
    for (const [aet, project] of intakeProjects) {
      const filters = filtersFor(pipelines, aet);
      gatewayTargets.set(aet, { project, pseudonymizer: pseudonymizerFor(project), ...(filters.length > 0 ? { filters } : {}) });
    }
    const dimseLog = logger.child({ component: 'dimse' });
    const quarantine = new QuarantineStore(join(config.dataDir, 'quarantine'));
    const gateway = new GatewayService({ ingest: archive.ingest, quarantine, log: logger.child({ component: 'gateway' }) });
    // Watch folders: their projects are resolved here, so a typo stops start-up before anything listens.
    const watchLog = logger.child({ component: 'folder-watch' });
    config.watchFolders.forEach((w, i) => {
      let intake: WatchIntake;
      if (w.project === undefined) intake = plainWatchIntake(archive.ingest);
      else {
        let project: Project;
        try {
          project = projectNamed(w.project);
        } catch (e) {
          throw new AppError('CONFIG_INVALID', { detail: `watchFolders[${i}].project: ${(e as AppError).detail ?? (e as Error).message}`, cause: e });
        }
        // A pipeline bound to this project's folder intake (sources: [folder]) adds its filter stages.
        const filters = stageFilters(httpIntakePipeline(pipelines, 'folder', w.project));
        const target: GatewayProject = { project, pseudonymizer: pseudonymizerFor(project), ...(filters.length > 0 ? { filters } : {}) };
        intake = gatewayWatchIntake(gateway, target);
      }
      const opts = { path: w.path, pollMs: w.pollSeconds * 1000, settleMs: w.settleSeconds * 1000, after: w.after, name: `watchFolders[${i}]` };
      watchers.push(new FolderWatcher(opts, { intake, log: watchLog }));
    });
    dimse = await startDimseServer(
      {
        ingest: archive.ingest,
        index: archive.index,
        blobs: archive.blobs,
        log: dimseLog,
        ...(auth.service ? { authenticate: authenticateWith(auth.service), readScope: readScopeWith(auth.service, config.auth.archiveProject) } : {}),
        intake: gatewayIntake({
          gateway,
          projectFor: (calledAe) => gatewayTargets.get(calledAe),
          fallback: ingestIntake({ ingest: archive.ingest, blobs: archive.blobs, log: dimseLog }),
          log: dimseLog,
        }),
      },
      // User identity on DIMSE is checked when a peer sends one; requiring it of every peer would shut
      // out the many modalities and TPSs that cannot send one, so with authentication on those must be
      // known by calling AE title instead (dicom.peers, dicom.allowedCallingAets; docs/security.md).
      {
        ...config.dicom,
        host: config.host,
        // Authentication on: peers without a user identity must be known by their calling AE title
        // (an intake's own allow-list counts as knowing them).
        ...(auth.service && config.dicom.unauthenticatedPeers === 'known'
          ? { anonymousCallingAets: [...config.dicom.allowedCallingAets, ...config.dicom.peers.map((p) => p.aet), ...config.intakes.flatMap((i) => i.allowedCallingAets ?? [])] }
          : {}),
        intakeCallingAets: new Map(config.intakes.filter((i) => (i.allowedCallingAets ?? []).length > 0).map((i) => [i.aet, i.allowedCallingAets!])),
        intakeAets: [...new Set([...gatewayTargets.keys(), ...pipelineAets(pipelines)])].filter((a) => a !== config.dicom.aet) },
    );
    let httpPort = 0;
    const dicomPort = dimse.port;
    const projectByName = (name: string, intake?: ProjectIntake): GatewayProject | undefined => {
      try {
        const project = projectNamed(name);
        // A pipeline bound to this project's STOW or upload route adds its filter stages.
        const bound = intake ? httpIntakePipeline(pipelines, intake, name) : undefined;
        const filters = bound ? stageFilters(bound) : [];
        return { project, pseudonymizer: pseudonymizerFor(project), ...(filters.length > 0 ? { filters } : {}) };
      } catch {
        return undefined;
      }
    };
    const http = await buildHttpServer({
      logger: logger.child({ component: 'http' }),
      health: async () => ({ status: 'ok', version: VERSION, uptimeSeconds: Math.round((Date.now() - started) / 1000), checks: {} }),
      bodyLimitBytes: uploadLimitBytes,
      trustProxy: config.http.trustProxy,
      ...(config.http.tlsCertFile && config.http.tlsKeyFile ? { tls: { certFile: config.http.tlsCertFile, keyFile: config.http.tlsKeyFile } } : {}),
      surfaces: {
        auth: {
          enabled: config.auth.enabled,
          service: auth.service,
          audit: auth.audit,
          limiter: new LoginRateLimiter({ maxFailures: config.auth.loginMaxFailures, windowSeconds: config.auth.loginWindowSeconds }),
          archiveProject: config.auth.archiveProject,
          ...(oidc ? { oidc } : {}),
        },
        rest: {
          archive,
          system: () => ({ aet: config.dicom.aet, dicomPort, httpPort, version: VERSION }),
          uploadLimitBytes,
          modalities: modalitiesOf(config),
          anonymize: { projects: config.projects, defaultProject: config.http.defaultAnonymizeProject, pseudonymizerFor },
          pipeline: {
            repo: pipelineRuntime.jobs,
            registry: new JobRegistry(),
            wake: () => pipelineRuntime.routes.wake(),
            completeStudy: (id) => pipelineRuntime.complete(id),
          },
          studySend: { send: (id, destinations) => pipelineRuntime.send(id, destinations) },
          routes: { destinations: destinationInfos(config), queues: pipelineRuntime.routes, getJob: (id) => pipelineRuntime.jobs.get(id) },
          gatewayUpload: { gateway, projectFor: (name) => projectByName(name, 'upload'), uploadLimitBytes },
        },
        gateway: { gateway, projectFor: (name) => projectByName(name, 'stow') },
        broker: { keys: keyStore, quarantine, gateway, projectFor: projectByName, archive: { index: archive.index } },
        projects: { projects: config.projects, archive: { index: archive.index, blobs: archive.blobs }, keys: keyStore },
      },
      ui: { ...(config.auth.oidc.issuer ? { oidcLogin: { label: config.auth.oidc.label } } : {}) },
    });
    await http.listen({ port: config.http.port, host: config.host });
    httpPort = (http.server.address() as AddressInfo).port;
    for (const w of watchers) await w.start();
    // One line scripts and tests wait for (the CLI contract): the ports actually bound.
    logger.info(`listening dicom=${dicomPort} http=${httpPort}`, { dicomPort, httpPort, aet: config.dicom.aet, dataDir: config.dataDir, auth: config.auth.enabled });
    const running = dimse;
    const authRuntime = auth;
    return {
      dicomPort,
      httpPort,
      archive,
      pipeline: pipelineRuntime,
      async close() {
        // Watchers first: a file being taken finishes (stored, then moved) before the archive closes.
        await Promise.all(watchers.map((w) => w.stop()));
        await http.close();
        await running.close();
        await pipelineRuntime.stop();
        await stableChanges.idle();
        await keyStore.close();
        await authRuntime.close();
        await archive.close();
      },
    };
  } catch (e) {
    await Promise.all(watchers.map((w) => w.stop().catch(() => undefined)));
    await dimse?.close().catch(() => undefined);
    await runtime?.stop().catch(() => undefined);
    await keys?.close().catch(() => undefined);
    await auth?.close().catch(() => undefined);
    await archive.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Orthanc's /modalities and /peers: DICOM peers (named by AE title) and route destinations of kind
 * "dicom" (by name; a peer of the same name wins), and DICOMweb destinations as HTTP peers.
 */
function modalitiesOf(config: ResolvedConfig): ModalityDeps {
  const peers: ModalityPeer[] = config.dicom.peers.map((p) => ({ name: p.aet, aet: p.aet, host: p.host, port: p.port }));
  const httpPeers: string[] = [];
  for (const [name, d] of Object.entries(config.destinations)) {
    if (d.kind === 'dicom' && !peers.some((p) => p.name === name)) peers.push({ name, aet: d.aet, host: d.host, port: d.port });
    if (d.kind === 'dicomweb') httpPeers.push(name);
  }
  return { peers, localAet: config.dicom.aet, httpPeers };
}

/**
 * Called AE -> de-identification project, from `intakes` and from pipelines whose intake names a
 * called AE and that have a deid stage. A pipeline cannot de-identify an intake it does not bind to a
 * called AE (yet): refused here rather than archiving identified objects.
 */
function pipelineIntakeProjects(pipelines: readonly Pipeline[], intakes: ResolvedConfig['intakes']): Map<string, string> {
  const out = new Map(intakes.map((it) => [it.aet, it.project]));
  const problems: string[] = [];
  for (const p of pipelines) {
    const deid = p.stages.find((s) => s.kind === 'deid');
    const filters = p.stages.some((s) => s.kind === 'filter');
    const ae = p.intake.calledAe;
    if ((deid || filters) && bindsHttpIntakes(p)) {
      // Bound to the project's STOW / upload routes (POST /projects/{project}/...) and watch folders: checked here, bound by httpIntakePipeline.
      if (!deid) problems.push(`pipelines.${p.name}: filter stages on STOW/upload/folder intakes run before de-identification: add a deid stage`);
      else {
        for (const src of p.intake.sources as ProjectIntake[]) {
          if (httpIntakePipeline(pipelines, src, deid.project) !== p) problems.push(`pipelines.${p.name}: another pipeline already binds the ${src} intake of project ${deid.project}`);
        }
      }
      continue;
    }
    if ((deid || filters) && (ae === undefined || p.intake.sources?.some((s) => s !== 'dimse') || p.intake.sources?.length === 0)) {
      problems.push(`pipelines.${p.name}: deid and filter stages apply to DIMSE intakes (set intake.calledAe, and no other sources) or to STOW/upload/folder intakes (intake.sources: any of [stow, upload, folder], no calledAe)`);
      continue;
    }
    if (filters && !deid && !out.has(ae!)) problems.push(`pipelines.${p.name}: filter stages apply on de-identifying intakes: add a deid stage`);
    if (!deid || ae === undefined) continue;
    const bound = out.get(ae);
    if (bound !== undefined && bound !== deid.project) problems.push(`pipelines.${p.name}: intake ${ae} is bound to project ${bound} in "intakes", not ${deid.project}`);
    out.set(ae, deid.project);
  }
  if (problems.length > 0) throw new AppError('PIPELINE_CONFIG_INVALID', { detail: problems.join('; ') });
  return out;
}

/** Plain watch folders: files are copied into the archive as they are (one group commit per batch). */
function plainWatchIntake(ingest: IngestService): WatchIntake {
  const source = { transport: 'import' as const };
  return async (inputs) => {
    const results = await ingest.ingestBatch(inputs.map((x) => ('path' in x ? { path: x.path, source } : { data: x.data, source })));
    return results.map((r): WatchIntakeResult => (r.status === 'rejected' ? r : { status: r.status }));
  };
}

/** Watch folders bound to a project: each file de-identified by the gateway before the archive sees it. */
function gatewayWatchIntake(gateway: GatewayService, target: GatewayProject): WatchIntake {
  return async (inputs) => {
    const out: WatchIntakeResult[] = [];
    for (const x of inputs) {
      let data: Uint8Array;
      try {
        data = 'data' in x ? x.data : await readFile(x.path);
      } catch (e) {
        // Gone since it settled (taken by someone else) or unreadable: refused, code only.
        out.push({ status: 'rejected', code: 'IMPORT_UNREADABLE', reason: (e as NodeJS.ErrnoException).code ?? 'unreadable', retryable: false });
        continue;
      }
      const r = await gateway.process(data, target, { transport: 'import' });
      if (r.status === 'quarantined') out.push({ status: r.skipped ? 'skipped' : 'quarantined' });
      else if (r.status === 'rejected') out.push(r);
      else out.push({ status: r.status });
    }
    return out;
  };
}

/** Filter stages of the pipeline bound to a called AE (the first, as selectPipeline picks). */
function filtersFor(pipelines: readonly Pipeline[], aet: string): GatewayFilter[] {
  return stageFilters(pipelines.find((x) => x.intake.calledAe === aet));
}

function stageFilters(p: Pipeline | undefined): GatewayFilter[] {
  return (p?.stages ?? []).flatMap((s) => (s.kind === 'filter' ? [{ expression: s.expression, predicate: s.predicate, onMismatch: s.onMismatch }] : []));
}

function pipelineAets(pipelines: readonly Pipeline[]): string[] {
  return pipelines.flatMap((p) => (p.intake.calledAe !== undefined ? [p.intake.calledAe] : []));
}

/** What GET /routes shows of each destination buildDestinations makes: the same names, no secrets. */
function destinationInfos(config: ResolvedConfig): RouteDestinationInfo[] {
  const dicom = (aet: string, host: string, port: number) => `${aet}@${host}:${port}`;
  const fromPeers = config.dicom.peers.map((p): RouteDestinationInfo => ({ name: peerDestination(p.aet), kind: 'dicom', target: dicom(p.aet, p.host, p.port), source: 'dicom.peers' }));
  const configured = Object.entries(config.destinations).map(([name, d]): RouteDestinationInfo => {
    if (d.kind === 'dicom') return { name, kind: 'dicom', target: dicom(d.aet, d.host, d.port), source: 'destinations' };
    if (d.kind === 'folder') return { name, kind: 'folder', target: d.root, source: 'destinations' };
    return { name, kind: 'dicomweb', target: urlWithoutCredentials(d.url), source: 'destinations' };
  });
  return [...fromPeers, ...configured];
}

/** A URL as safe to show: no user:password@, query or fragment (where tokens hide). */
function urlWithoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Route destinations from the config (also used by `dicomgate routes` to test them). */
export function buildDestinations(cfg: Readonly<Record<string, DestinationConfig>>, ourAe: string, load: ItemLoader, peers: ResolvedConfig['dicom']['peers'] = []): Destination[] {
  // Known DICOM peers are destinations too (`peer:<AET>`), for POST /studies/{id}/send.
  const fromPeers = peers.map((p) => new DicomPeerDestination(peerDestination(p.aet), { aeTitle: p.aet, host: p.host, port: p.port, callingAe: ourAe }, load));
  return [...fromPeers, ...buildConfiguredDestinations(cfg, ourAe, load)];
}

function buildConfiguredDestinations(cfg: Readonly<Record<string, DestinationConfig>>, ourAe: string, load: ItemLoader): Destination[] {
  return Object.entries(cfg).map(([name, d]) => {
    if (d.kind === 'dicom') return new DicomPeerDestination(name, { aeTitle: d.aet, host: d.host, port: d.port, callingAe: ourAe }, load);
    if (d.kind === 'folder') return new DiskDestination(name, { root: d.root, template: d.template, ...(d.dicomdir ? { dicomdir: true } : {}) }, load);
    const auth = d.auth === undefined ? undefined : d.auth.kind === 'basic' ? { kind: 'basic' as const, user: d.auth.username, password: d.auth.secret } : { kind: 'bearer' as const, token: d.auth.secret };
    return new StowDestination(name, { url: d.url, ...(auth ? { auth } : {}) }, load);
  });
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
