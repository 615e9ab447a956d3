// A `deid` worker thread: de-identifies the files it is sent; pseudonyms come from the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { AppError, type ErrorCode } from '../../core/errors.ts';
import { resolveProject } from '../../deid/project.ts';
import type { PseudonymMapping, PseudonymRequest, Pseudonymizer } from '../../deid/pseudonymizer.ts';
import { deidFile, type FileJob } from './_deid-file.ts';
import type { FromWorker, ToWorker, WorkerInit } from './_deid-protocol.ts';

const port = parentPort;
if (!port) throw new Error('_deid-worker must run as a worker thread');
const init = workerData as WorkerInit;
const post = (m: FromWorker): void => port.postMessage(m);

const pending = new Map<number, { resolve: (m: PseudonymMapping) => void; reject: (e: unknown) => void }>();
let nextRid = 1;

class RemotePseudonymizer implements Pseudonymizer {
  resolve(req: PseudonymRequest): Promise<PseudonymMapping> {
    const rid = nextRid++;
    return new Promise((resolve, reject) => {
      pending.set(rid, { resolve, reject });
      post({ type: 'resolve', rid, req: { patient: req.patient, uids: [...req.uids] } });
    });
  }
}

const job: FileJob = {
  project: resolveProject(init.projectName, init.projects),
  pseudonymizer: new RemotePseudonymizer(),
  outDir: init.outDir,
  dryRun: init.dryRun,
};

port.on('message', (m: ToWorker) => {
  if (m.type === 'resolved' || m.type === 'resolve-failed') {
    const p = pending.get(m.rid);
    pending.delete(m.rid);
    if (m.type === 'resolved') p?.resolve({ patient: m.patient, uids: new Map(m.uids) });
    else p?.reject(new AppError(m.code as ErrorCode, { detail: m.detail }));
    return;
  }
  const input = m.path !== undefined ? { path: m.path } : { data: m.data as Uint8Array };
  deidFile(input, job).then(
    (result) => post({ type: 'done', id: m.id, result }),
    (e: unknown) => post({ type: 'failed', id: m.id, message: e instanceof AppError ? e.message : String((e as Error)?.message ?? e) }),
  );
});
