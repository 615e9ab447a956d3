// Worker entry that registers tsx before importing the TypeScript module named in workerData.__entry.
// Node 20 workers do not inherit the parent's loader hooks, and `execArgv: ['--import', 'tsx']`
// does not reach the worker's own entry either, so the hook is registered here.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
