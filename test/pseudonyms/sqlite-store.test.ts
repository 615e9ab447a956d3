import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqlitePseudonymStore } from '../../src/pseudonyms/sqlite/sqlite-pseudonym-store.ts';
import { isAppError } from '../../src/core/errors.ts';
import { POLICY, pseudonymStoreContract } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'dicomgate-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

pseudonymStoreContract('sqlite', async (name) => {
  const s = new SqlitePseudonymStore(join(dir, `${name}.sqlite`));
  await s.migrate();
  return s;
});

describe('SqlitePseudonymStore across threads', () => {
  it('two worker threads on one file create each new patient exactly once', async () => {
    const file = join(dir, 'threads.sqlite');
    const s = new SqlitePseudonymStore(file);
    await s.migrate();
    const run = () =>
      new Promise<Record<string, string>>((resolve, reject) => {
        const w = new Worker(new URL('./ts-worker-boot.mjs', import.meta.url), {
          workerData: { __entry: new URL('./sqlite-worker.ts', import.meta.url).href, file, n: 30 },
        });
        w.once('message', resolve);
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run(), run()]);
    assert.deepEqual(a, b);
    const patients = await s.listPatients('p');
    assert.equal(patients.length, 30);
    assert.equal(new Set(patients.map((p) => p.pseudonym.patientId)).size, 30);
    await s.close();
  });

  it('resolveBatchEarly answers after the commit and agrees with resolveBatch; the mappings survive a reopen', async () => {
    const file = join(dir, 'early.sqlite');
    const s = new SqlitePseudonymStore(file);
    await s.migrate();
    const key = { patientId: 'EARLY-1', issuer: '' };
    const early = await s.resolveBatchEarly('p', [{ key, uids: ['1.9.1', '1.9.2'] }], POLICY);
    await early.durable;
    const [again] = await s.resolveBatch('p', [{ key, uids: ['1.9.2', '1.9.1'] }], POLICY);
    assert.deepEqual(again.pseudonym, early.results[0].pseudonym);
    assert.equal(again.uids.get('1.9.1'), early.results[0].uids.get('1.9.1'));
    assert.equal(again.uids.get('1.9.2'), early.results[0].uids.get('1.9.2'));
    await s.close();
    const reopened = new SqlitePseudonymStore(file);
    assert.equal(await reopened.findOriginalUid('p', early.results[0].uids.get('1.9.1') as string), '1.9.1');
    await reopened.close();
  });

  it('reports driver failures as KEYS_UNAVAILABLE without the key in the message', async () => {
    const s = new SqlitePseudonymStore(join(dir, 'closed.sqlite'));
    await s.migrate();
    await s.close();
    await assert.rejects(s.getOrCreatePatient('p', { patientId: 'SECRET-MRN', issuer: '' }, POLICY), (e) => {
      assert.ok(isAppError(e, 'KEYS_UNAVAILABLE'));
      assert.ok(!String((e as Error).message).includes('SECRET-MRN'));
      return true;
    });
  });
});
