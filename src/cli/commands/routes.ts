// `dicomgate routes list` and `dicomgate routes test [<destination>...]`: the route destinations of
// the config and a connectivity check of each, through the same Destination objects the server's
// route queues use (C-ECHO for a DICOM peer, a QIDO-RS probe for a DICOMweb server, a probe file
// for a folder).
import { AppError, isAppError } from '../../core/errors.ts';
import type { DestinationConfig, ResolvedConfig } from '../../config/schema.ts';
import { buildDestinations } from '../../main.ts';
import { compilePipelines } from '../../pipeline/pipeline-config.ts';
import type { Destination } from '../../pipeline/route-queue.ts';
import { UsageError, intFlag, type Command } from '../command.ts';
import { explainAssociationError } from './_dimse-peer.ts';

export const command: Command = {
  name: 'routes',
  summary: 'list route destinations and test their connectivity',
  usage: `list | test [<destination>...] [options]

  routes list                 the destinations of the config (destinations.<name>), what they
                              point at, and the pipelines that route to them
  routes test <destination>   checks one destination can be reached: a DICOM peer answers
                              C-ECHO (called with dicom.aet as calling AE), a DICOMweb server
                              answers a QIDO-RS probe (GET {url}/studies?limit=1 with its
                              credentials) with 200 or 204, a folder exists or can be created
                              and a file can be written there
  routes test                 tests every destination

Options:
  --timeout <s>   seconds each test may take (default 30)
  --json          print JSON

Exit status: 0 when every destination tested passes; 1 when any fails; 2 on a usage error
(unknown destination: the known ones are listed).`,
  options: { timeout: { type: 'string' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    const [sub, ...names] = positionals;
    const cfg = ctx.config;
    if (sub === 'list' || sub === undefined) {
      if (names.length > 0) throw new UsageError('routes list takes no arguments');
      return list(cfg, ctx.stdout, values.json === true);
    }
    if (sub !== 'test') throw new UsageError(`unknown subcommand "${sub}" (list, test)`);
    const seconds = intFlag(values.timeout, 'timeout') ?? 30;
    if (seconds < 1) throw new UsageError('--timeout must be at least 1 second');
    const known = Object.keys(cfg.destinations);
    if (known.length === 0) throw new UsageError('no destinations are configured (see "destinations" in docs/configuration.md)');
    for (const n of names) if (!known.includes(n)) throw new UsageError(`unknown destination "${n}"; configured: ${known.join(', ')}`);
    const wanted = names.length > 0 ? names : known;
    const noLoad = async (): Promise<Uint8Array> => {
      throw new AppError('INDEX_NOT_FOUND', { detail: 'routes test sends nothing' });
    };
    const dests = buildDestinations(cfg.destinations, cfg.dicom.aet, noLoad).filter((d) => wanted.includes(d.name));
    const results: { destination: string; kind: string; target: string; ok: boolean; ms: number; error?: string }[] = [];
    for (const d of dests) {
      const c = cfg.destinations[d.name];
      const started = performance.now();
      let error: string | undefined;
      try {
        await withTimeout(testOf(d), seconds * 1000);
      } catch (e) {
        error = explain(e, c, cfg);
      } finally {
        await d.close?.().catch(() => undefined);
      }
      const r = { destination: d.name, kind: c.kind, target: targetOf(c), ok: error === undefined, ms: Math.round(performance.now() - started), ...(error !== undefined && { error }) };
      results.push(r);
      if (!values.json) ctx.stdout.write(`${r.ok ? 'PASS' : 'FAIL'}  ${d.name}  ${r.kind} ${r.target}  ${r.ok ? `${r.ms} ms` : error}\n`);
    }
    if (values.json) ctx.stdout.write(JSON.stringify(results) + '\n');
    return results.every((r) => r.ok) ? 0 : 1;
  },
};

function testOf(d: Destination): Promise<void> {
  if (!d.test) throw new AppError('ROUTE_DESTINATION_UNKNOWN', { detail: `${d.name} has no connectivity test` });
  return d.test();
}

class TestTimeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestTimeout(`no answer within ${ms / 1000} s (raise --timeout if the destination is slow)`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function targetOf(c: DestinationConfig): string {
  if (c.kind === 'dicom') return `${c.aet}@${c.host}:${c.port}`;
  if (c.kind === 'dicomweb') return c.url;
  return c.root;
}

function explain(e: unknown, c: DestinationConfig, cfg: ResolvedConfig): string {
  if (e instanceof TestTimeout) return e.message;
  if (c.kind === 'dicom') return explainAssociationError(e, { aet: c.aet, host: c.host, port: c.port }, cfg.dicom.aet);
  // The catalog's text ("out of resources; will retry") speaks of queued items, not of a test: the detail says it.
  const msg = isAppError(e) ? (e.detail ?? e.message) : e instanceof Error ? e.message : String(e);
  if (c.kind === 'dicomweb') {
    if (/HTTP 401|HTTP 403/.test(msg)) return `${msg}: check the destination's auth (user and secret or token)`;
    if (/HTTP 404/.test(msg)) return `${msg}: check the URL is the DICOMweb base (the one that has /studies)`;
    if (/connection failed|timeout/.test(msg)) return `${msg}: check the URL's host and port, and that the server runs`;
    return msg;
  }
  return `${msg}: check the folder's path and permissions`;
}

function list(cfg: ResolvedConfig, out: NodeJS.WritableStream, json: boolean): number {
  const pipelines = compilePipelines(cfg.pipelines, { destinations: Object.keys(cfg.destinations) });
  const rows = Object.entries(cfg.destinations).map(([name, c]) => ({
    destination: name,
    kind: c.kind,
    target: targetOf(c),
    routes: pipelines.flatMap((p) => p.stages.flatMap((s) => (s.kind === 'route' && s.destination === name ? [`${p.name} (${s.trigger})`] : []))),
  }));
  if (json) {
    out.write(JSON.stringify(rows) + '\n');
    return 0;
  }
  if (rows.length === 0) {
    out.write('no destinations configured (see "destinations" in docs/configuration.md)\n');
    return 0;
  }
  const w = Math.max(...rows.map((r) => r.destination.length));
  for (const r of rows) out.write(`${r.destination.padEnd(w)}  ${r.kind.padEnd(8)}  ${r.target}${r.routes.length ? `  <- ${r.routes.join(', ')}` : '  (no pipeline routes here)'}\n`);
  return 0;
}
