// `dicomgate studies complete <study>`: marks a study complete now instead of after the quiet
// period. Works on the database, so it also reaches a running server: its stable-study tracker
// announces the study (StableStudy, then its jobs) at its next tick.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPipelineDb } from '../../pipeline/open-pipeline-db.ts';
import { migratePipeline } from '../../pipeline/pipeline-schema.ts';
import { StabilityRepo } from '../../pipeline/stability-repo.ts';
import { UsageError, type Command } from '../command.ts';

export const command: Command = {
  name: 'studies',
  summary: 'study actions: mark a study complete (stable) now',
  usage: `complete <study-id>

  Marks the study complete without waiting for its quiet period (stableAge): a running server
  announces it as StableStudy at once and starts what its pipelines do for stable studies.
  <study-id> is the study's key in the stable-study table (its Orthanc-style study id).`,
  options: {},
  allowPositionals: true,
  async run(args, ctx) {
    const [sub, id, ...extra] = args.positionals;
    if (sub !== 'complete' || id === undefined || extra.length > 0) throw new UsageError('expected: studies complete <study-id>');
    const cfg = ctx.config;
    if (cfg.index.kind === 'sqlite') mkdirSync(cfg.dataDir, { recursive: true });
    const db =
      cfg.index.kind === 'postgres'
        ? openPipelineDb({ kind: 'postgres', url: cfg.postgres.url?.reveal() ?? '', schema: cfg.postgres.schema })
        : openPipelineDb({ kind: 'sqlite', path: join(cfg.dataDir, 'index.sqlite') });
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
