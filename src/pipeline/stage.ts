// The stage contract: a job handler runs one step at a time and says what comes next
// (Orthanc's JobStepCode, with CTP's distinction between retryable and permanent failure).
// Steps must be idempotent: after a crash the step that was running runs again.
import type { AppError } from '../core/errors.ts';
import type { JobRecord } from './job.ts';

export type StepResult =
  | { readonly kind: 'done'; readonly result?: unknown }
  | { readonly kind: 'continue'; readonly checkpoint?: unknown; readonly progress?: number }
  | { readonly kind: 'retry'; readonly afterMs?: number; readonly error?: AppError }
  | { readonly kind: 'fail'; readonly error: AppError };

export const done = (result?: unknown): StepResult => ({ kind: 'done', result });
export const next = (checkpoint?: unknown, progress?: number): StepResult => ({ kind: 'continue', checkpoint, progress });
/** afterMs undefined: the runner's exponential backoff decides. */
export const retry = (afterMs?: number, error?: AppError): StepResult => ({ kind: 'retry', afterMs, error });
export const fail = (error: AppError): StepResult => ({ kind: 'fail', error });

export interface StepContext {
  readonly job: JobRecord;
  /** 0-based index of this step; equals job.step. */
  readonly step: number;
  /** The checkpoint the previous `continue` saved (undefined on the first step). */
  readonly checkpoint: unknown;
  /** Aborted when the lease is lost or the runner stops: stop early, the step will run again. */
  readonly signal: AbortSignal;
  setProgress(p: number): void;
}

export interface JobHandler {
  readonly type: string;
  runStep(ctx: StepContext): Promise<StepResult>;
  /**
   * With a runner that claims batches: may this job wait in a batch behind others? Short jobs (one
   * step) yes; a long one claimed behind another is handed back at once, so an idle loop runs it in
   * parallel. Default: every job.
   */
  batchable?(job: JobRecord): boolean;
}
