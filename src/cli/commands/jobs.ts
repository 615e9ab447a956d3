// `dicomgate jobs ...`: the persistent job table (list, show, cancel, pause, resume, resubmit),
// read straight from the index database so it works while the server runs or not.
import { isAppError } from '../../core/errors.ts';
import { JOB_STATES, type JobState } from '../../pipeline/job.ts';
import { toOrthancJob } from '../../pipeline/job-view.ts';
import { SqlJobRepo } from '../../pipeline/sql-job-repo.ts';
import { UsageError, intFlag, type Command } from '../command.ts';
import { openConfiguredPipelineDb } from './_pipeline-db.ts';

const ACTIONS = ['cancel', 'pause', 'resume', 'resubmit'] as const;

export const command: Command = {
  name: 'jobs',
  summary: 'list and control background jobs (cancel, pause, resume, resubmit)',
  usage: `[list | show <id> | cancel <id> | pause <id> | resume <id> | resubmit <id>] [options]

  jobs                      counts per state and the latest jobs
  jobs list [--state S]...  jobs in these states (Pending Running Success Failure Paused Retry)
  jobs show <id>            one job as JSON (Orthanc's GET /jobs/{id} shape)
  jobs cancel <id>          Pending/Retry/Paused: Failure now; Running: stops after the current step
  jobs pause <id>           holds a job (a running one after its current step)
  jobs resume <id>          releases a paused job
  jobs resubmit <id>        runs a failed job again from its first step

Options:
  --state <S>    filter for list (repeatable)
  --limit <n>    jobs to list (default 50)
  --json         print JSON instead of a table`,
  options: {
    state: { type: 'string', multiple: true },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(args, ctx) {
    const [sub = 'summary', id, ...extra] = args.positionals;
    if (extra.length > 0) throw new UsageError('too many arguments');
    const states = ((args.values.state as string[] | undefined) ?? []).map((s) => {
      const st = JOB_STATES.find((x) => x.toLowerCase() === s.toLowerCase());
      if (!st) throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')}`);
      return st;
    });
    if (!['summary', 'list', 'show', ...ACTIONS].includes(sub)) throw new UsageError(`unknown subcommand ${sub}`);
    const db = openConfiguredPipelineDb(ctx.config);
    const repo = new SqlJobRepo(db);
    try {
      await repo.migrate();
      const out = (v: unknown) => ctx.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
      if (sub === 'summary' || sub === 'list') {
        if (sub === 'summary' && id !== undefined) throw new UsageError(`unknown subcommand ${id}`);
        const jobs = await repo.list({ states: states as JobState[], limit: intFlag(args.values.limit, 'limit') ?? 50 });
        if (args.values.json) out(jobs.map(toOrthancJob));
        else {
          if (sub === 'summary') ctx.stdout.write(`${Object.entries(await repo.counts()).map(([k, v]) => `${k} ${v}`).join('  ')}\n`);
          for (const j of jobs) ctx.stdout.write(`${j.id.padStart(8)}  ${j.state.padEnd(8)}  ${String(Math.round(j.progress * 100)).padStart(3)}%  ${j.type}${j.error ? `  ${j.error.code}` : ''}\n`);
        }
        return 0;
      }
      if (id === undefined) throw new UsageError(`${sub} needs a job id`);
      if (sub === 'show') {
        const j = await repo.get(id);
        if (!j) return notFound(ctx.stderr, id);
        out(toOrthancJob(j));
        return 0;
      }
      if (!(ACTIONS as readonly string[]).includes(sub)) throw new UsageError(`unknown subcommand ${sub}`);
      try {
        const j = await repo[sub as (typeof ACTIONS)[number]](id, Date.now());
        if (!j) return notFound(ctx.stderr, id);
        ctx.stdout.write(`job ${j.id}: ${j.state}${j.request ? ` (${j.request} requested)` : ''}\n`);
        return 0;
      } catch (e) {
        if (isAppError(e, 'JOB_STATE')) {
          ctx.stderr.write(`dicomgate jobs: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
    } finally {
      await repo.close();
    }
  },
};

function notFound(stderr: NodeJS.WritableStream, id: string): number {
  stderr.write(`dicomgate jobs: no job ${id}\n`);
  return 1;
}
