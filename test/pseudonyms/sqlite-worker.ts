// Worker for sqlite-store.test.ts: de-identifies 30 new patients' "instances" concurrently with
// the other worker, on the same database file.
import { parentPort, workerData } from 'node:worker_threads';
import { SqlitePseudonymStore } from '../../src/pseudonyms/sqlite/sqlite-pseudonym-store.ts';
import { POLICY } from './contract.ts';

const { file, n } = workerData as { file: string; n: number };
const s = new SqlitePseudonymStore(file);
const out: Record<string, string> = {};
for (let i = 0; i < n; i++) {
  const m = await s.mapUids('p', { patientId: `PAT${i}`, issuer: '' }, [`1.3.${i}`], POLICY);
  const p = await s.getOrCreatePatient('p', { patientId: `PAT${i}`, issuer: '' }, POLICY);
  out[`PAT${i}`] = `${p.patientId}|${p.dateShiftDays}|${m.get(`1.3.${i}`)}`;
}
await s.close();
parentPort?.postMessage(out);
