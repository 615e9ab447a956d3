// Messages between the `deid` main thread (which owns the key database) and its workers (which parse,
// de-identify and write). Workers ask the main thread for pseudonyms, so one process holds the
// database and concurrent requests are batched into one transaction.
import type { PatientPseudonym, PseudonymRequest } from '../../deid/pseudonymizer.ts';
import type { FileResult } from './_deid-file.ts';

export interface WorkerInit {
  readonly projectName: string;
  readonly projects: Readonly<Record<string, unknown>>;
  readonly outDir: string;
  readonly dryRun: boolean;
}

export type ToWorker =
  | { readonly type: 'task'; readonly id: number; readonly path?: string; readonly data?: Uint8Array }
  | { readonly type: 'resolved'; readonly rid: number; readonly patient: PatientPseudonym; readonly uids: [string, string][] }
  | { readonly type: 'resolve-failed'; readonly rid: number; readonly code: string; readonly detail: string };

export type FromWorker =
  | { readonly type: 'resolve'; readonly rid: number; readonly req: PseudonymRequest }
  | { readonly type: 'done'; readonly id: number; readonly result: FileResult }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };
