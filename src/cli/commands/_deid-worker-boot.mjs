// Worker entry for `dicomgate deid`: registers tsx, then loads the TypeScript worker. Node 20 workers
// do not inherit the parent's loader hooks, and `execArgv: ['--import', 'tsx']` does not reach the
// worker's own entry module, so the hook is registered here.
import { register } from 'tsx/esm/api';

register();
await import('./_deid-worker.ts');
