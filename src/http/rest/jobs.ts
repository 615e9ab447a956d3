// An in-memory job registry for Orthanc's asynchronous operations (POST .../anonymize with
// "Asynchronous": true) and GET /jobs, /jobs/{id}. Jobs are lost on restart (documented).
import { randomUUID } from 'node:crypto';
import { isAppError } from '../../core/errors.ts';

export type JobState = 'Pending' | 'Running' | 'Success' | 'Failure';

export interface Job {
  id: string;
  type: string;
  state: JobState;
  progress: number;
  creationTime: string;
  completionTime: string | null;
  content: Record<string, unknown>;
  errorCode: string | null;
  errorDescription: string | null;
  /** Who started it; only admins see other users' jobs. */
  owner: string | null;
}

const MAX_JOBS = 1000;

export class JobRegistry {
  readonly #jobs = new Map<string, Job>();

  start(type: string, owner: string | null, run: (progress: (p: number) => void) => Promise<Record<string, unknown>>): Job {
    const job: Job = {
      id: randomUUID(),
      type,
      state: 'Pending',
      progress: 0,
      creationTime: new Date().toISOString(),
      completionTime: null,
      content: {},
      errorCode: null,
      errorDescription: null,
      owner,
    };
    if (this.#jobs.size >= MAX_JOBS) {
      const oldest = [...this.#jobs.values()].find((j) => j.state === 'Success' || j.state === 'Failure');
      if (oldest) this.#jobs.delete(oldest.id);
    }
    this.#jobs.set(job.id, job);
    setImmediate(() => {
      job.state = 'Running';
      run((p) => (job.progress = Math.round(p)))
        .then((content) => {
          job.content = content;
          job.state = 'Success';
          job.progress = 100;
        })
        .catch((e: unknown) => {
          job.state = 'Failure';
          job.errorCode = isAppError(e) ? e.code : 'INTERNAL';
          job.errorDescription = isAppError(e) ? e.message : 'Internal error';
        })
        .finally(() => {
          job.completionTime = new Date().toISOString();
        });
    });
    return job;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  list(): Job[] {
    return [...this.#jobs.values()];
  }
}

function orthancTime(iso: string | null): string | null {
  return iso === null ? null : iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
}

/** Orthanc's job JSON (JobsEngine: ID, State, Progress, Type, Content, times, error). */
export function jobJson(j: Job): Record<string, unknown> {
  return {
    ID: j.id,
    Type: j.type,
    State: j.state,
    Progress: j.progress,
    CreationTime: orthancTime(j.creationTime),
    CompletionTime: orthancTime(j.completionTime),
    EffectiveRuntime: j.completionTime ? (Date.parse(j.completionTime) - Date.parse(j.creationTime)) / 1000 : null,
    Priority: 0,
    Content: j.content,
    ErrorCode: j.errorCode === null ? 0 : 1,
    ErrorDescription: j.errorDescription ?? 'Success',
    ErrorDetails: j.errorCode ?? '',
  };
}
