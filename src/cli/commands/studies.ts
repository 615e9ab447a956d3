// `dicomgate studies complete <study>`: marks a study complete now instead of after the quiet
// period. Works on the database, so it also reaches a running server: its stable-study tracker
// announces the study (StableStudy, then its jobs) at its next tick.
// `dicomgate studies send <study> <destination>...`: the manual route trigger (as POST
// /studies/{id}/send): queues a route job per destination in the job table; a running server's
// route queue delivers it (retries, dead letters).
import { migratePipeline } from '../../pipeline/pipeline-schema.ts';
import { StabilityRepo } from '../../pipeline/stability-repo.ts';
import { UsageError, type Command } from '../command.ts';
import { openConfiguredPipelineDb } from './_pipeline-db.ts';
import { peerDestination, routeJobType, type RouteItemPayload } from '../../pipeline/route-queue.ts';
import { SqlJobRepo } from '../../pipeline/sql-job-repo.ts';
import { openArchive } from '../../services/archive.ts';

export const command: Command = {
  name: 'studies',
  summary: 'study actions: mark a study complete (stable) now, send a study to a destination',
  usage: `complete <study-id> | send <study-id> <destination>...

  complete: marks the study complete without waiting for its quiet period (stableAge): a running
  server announces it as StableStudy at once and starts what its pipelines do for stable studies.
  send: queues the whole study for each destination (a name from "destinations", or peer:<AET> of
  dicom.peers); a running server delivers it through its durable route queue.
  <study-id> is the Orthanc-style study id.`,
  options: {},
  allowPositionals: true,
  async run(args, ctx) {
    const [sub, id, ...extra] = args.positionals;
    if (sub === 'send') {
      if (id === undefined || extra.length === 0) throw new UsageError('expected: studies send <study-id> <destination>...');
      return send(ctx, id, extra);
    }
    if (sub !== 'complete' || id === undefined || extra.length > 0) throw new UsageError('expected: studies complete <study-id> | studies send <study-id> <destination>...');
    const db = openConfiguredPipelineDb(ctx.config);
    try {
      await migratePipeline(db);
      const had = await new StabilityRepo(db).markComplete(id);
      if (!had) {
        ctx.stderr.write(`dicomgate studies: study ${id} has no instance waiting to be announced\n`);
        return 1;
      }
      ctx.stdout.write(`study ${id}: marked complete\n`);
      return 0;
    } finally {
      await db.close();
    }
  },
};

type Ctx = Parameters<Command['run']>[1];

async function send(ctx: Ctx, studyId: string, destinations: string[]): Promise<number> {
  const cfg = ctx.config;
  const known = new Set([...Object.keys(cfg.destinations), ...cfg.dicom.peers.map((p) => peerDestination(p.aet))]);
  const unknown = destinations.filter((d) => !known.has(d));
  if (unknown.length > 0) {
    ctx.stderr.write(`dicomgate studies: no destination ${unknown.join(', ')} (configured: ${[...known].join(', ') || 'none'})\n`);
    return 1;
  }
  const archive = await openArchive(cfg.dataDir, { duplicates: cfg.storage.duplicates, indexKind: cfg.index.kind, postgres: cfg.postgres });
  const db = openConfiguredPipelineDb(cfg);
  try {
    const items = (await archive.index.listInstances('study', studyId)).map((i) => i.id);
    if (items.length === 0) {
      ctx.stderr.write(`dicomgate studies: study ${studyId} is not in the archive\n`);
      return 1;
    }
    const jobs = new SqlJobRepo(db);
    await jobs.migrate();
    const occurrence = `Manual:${studyId}:${Date.now()}`;
    for (const destination of new Set(destinations)) {
      const payload: RouteItemPayload = { destination, items, trigger: 'manual', occurrence };
      const job = await jobs.enqueue({ type: routeJobType(destination), payload, studyKey: studyId, maxAttempts: cfg.jobs.maxAttempts }, Date.now());
      ctx.stdout.write(`study ${studyId}: ${items.length} instance(s) queued for ${destination} as job ${job.id}\n`);
    }
    return 0;
  } finally {
    await db.close();
    await archive.close();
  }
}
