// One contract suite for every PseudonymStore implementation (sqlite.test.ts, postgres.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PseudonymPolicy } from '../../src/deid/pseudonymizer.ts';
import type { PseudonymStore } from '../../src/pseudonyms/pseudonym-store.ts';
import { StorePseudonymizer } from '../../src/pseudonyms/store-pseudonymizer.ts';
import { parseCtpLookupTable, parseMappingCsv, toMappingCsv } from '../../src/pseudonyms/mapping-csv.ts';

export const POLICY: PseudonymPolicy = {
  idPattern: '{prefix}{seq:06}',
  namePattern: '{id}^Anon',
  prefix: 'ANON',
  dateShiftDays: [-400, -10],
  uidRoot: undefined,
};

/** Makes a fresh, migrated, empty store; `name` is unique per test (for the PostgreSQL schema). */
export type StoreFactory = (name: string) => Promise<PseudonymStore>;

const key = (id: string, issuer = '') => ({ patientId: id, issuer });

async function withStore(make: StoreFactory, name: string, fn: (s: PseudonymStore) => Promise<void>): Promise<void> {
  const s = await make(name);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

export function pseudonymStoreContract(kind: string, make: StoreFactory): void {
  describe(`PseudonymStore contract (${kind})`, () => {
    it('gives a patient one pseudonym and date shift, kept across calls', async () => {
      await withStore(make, 'keep', async (s) => {
        const a = await s.getOrCreatePatient('p', key('MRN1'), POLICY);
        const b = await s.getOrCreatePatient('p', key('MRN1'), POLICY);
        assert.deepEqual(b, a);
        assert.equal(a.patientId, 'ANON000001');
        assert.equal(a.patientName, 'ANON000001^Anon');
        assert.ok(a.dateShiftDays >= -400 && a.dateShiftDays <= -10);
        const c = await s.getOrCreatePatient('p', key('MRN2'), POLICY);
        assert.equal(c.patientId, 'ANON000002');
      });
    });

    it('keys patients by PatientID and issuer', async () => {
      await withStore(make, 'issuer', async (s) => {
        const a = await s.getOrCreatePatient('p', key('MRN1', 'HOSP-A'), POLICY);
        const b = await s.getOrCreatePatient('p', key('MRN1', 'HOSP-B'), POLICY);
        assert.notEqual(a.patientId, b.patientId);
      });
    });

    it('keeps projects in separate namespaces', async () => {
      await withStore(make, 'namespaces', async (s) => {
        await s.getOrCreatePatient('p1', key('X'), POLICY);
        const a = await s.getOrCreatePatient('p1', key('MRN1'), POLICY);
        const b = await s.getOrCreatePatient('p2', key('MRN1'), POLICY);
        assert.equal(a.patientId, 'ANON000002');
        assert.equal(b.patientId, 'ANON000001');
        const ua = await s.mapUids('p1', key('MRN1'), ['1.2.3'], POLICY);
        const ub = await s.mapUids('p2', key('MRN1'), ['1.2.3'], POLICY);
        assert.notEqual(ua.get('1.2.3'), ub.get('1.2.3'));
        assert.ok(await s.deletePatient('p1', key('MRN1')));
        assert.equal((await s.findByOriginal('p2', key('MRN1')))?.pseudonym.patientId, 'ANON000001');
      });
    });

    it('makes random pseudonyms from a random pattern', async () => {
      await withStore(make, 'random', async (s) => {
        const policy = { ...POLICY, idPattern: 'R{random:12}', namePattern: 'Anon^{id}' };
        const a = await s.getOrCreatePatient('p', key('MRN1'), policy);
        const b = await s.getOrCreatePatient('p', key('MRN2'), policy);
        assert.match(a.patientId, /^R[2-9A-Z]{12}$/);
        assert.notEqual(a.patientId, b.patientId);
        assert.equal(a.patientName, `Anon^${a.patientId}`);
      });
    });

    it('maps UIDs once, to valid new UIDs, under a root when configured', async () => {
      await withStore(make, 'uids', async (s) => {
        const m1 = await s.mapUids('p', key('MRN1'), ['1.2.3.4', '1.2.3.5', '1.2.3.4'], POLICY);
        assert.equal(m1.size, 2);
        for (const v of m1.values()) {
          assert.match(v, /^2\.25\.[1-9]\d*$/);
          assert.ok(v.length <= 64);
        }
        assert.notEqual(m1.get('1.2.3.4'), m1.get('1.2.3.5'));
        const m2 = await s.mapUids('p', key('MRN1'), ['1.2.3.5'], POLICY);
        assert.equal(m2.get('1.2.3.5'), m1.get('1.2.3.5'));
        const root = '1.2.826.0.1.3680043.10.9999';
        const m3 = await s.mapUids('q', key('MRN1'), ['1.2.3.4'], { ...POLICY, uidRoot: root });
        const v = m3.get('1.2.3.4') as string;
        assert.ok(v.startsWith(root + '.') && v.length <= 64 && !/\.0\d/.test(v), v);
        assert.equal(await s.findOriginalUid('p', m1.get('1.2.3.4') as string), '1.2.3.4');
      });
    });

    it('ends 60 concurrent get-or-creates of one new patient with exactly one pseudonym', async () => {
      await withStore(make, 'concurrent-one', async (s) => {
        const results = await Promise.all(Array.from({ length: 60 }, () => s.getOrCreatePatient('p', key('NEW'), POLICY)));
        assert.equal(new Set(results.map((r) => JSON.stringify(r))).size, 1);
        assert.equal((await s.listPatients('p')).length, 1);
      });
    });

    it('handles 60 concurrent de-ids over 6 new patients with shared UIDs', async () => {
      await withStore(make, 'concurrent-many', async (s) => {
        const calls = Array.from({ length: 60 }, (_, i) =>
          s.mapUids('p', key(`PAT${i % 6}`), [`1.9.${i % 6}`, `1.9.${i % 6}.${i % 3}`, `1.9.sop.${i}`], POLICY).then(async (uids) => ({
            i,
            uids,
            patient: await s.getOrCreatePatient('p', key(`PAT${i % 6}`), POLICY),
          })),
        );
        const results = await Promise.all(calls);
        const patients = await s.listPatients('p');
        assert.equal(patients.length, 6);
        assert.deepEqual(new Set(patients.map((p) => p.pseudonym.patientId)).size, 6);
        const studyUid = new Map<string, string>();
        for (const r of results) {
          const k = `1.9.${r.i % 6}`;
          const v = r.uids.get(k) as string;
          assert.equal(studyUid.get(k) ?? v, v);
          studyUid.set(k, v);
        }
      });
    });

    it('gives concurrent callers through StorePseudonymizer one answer (batched)', async () => {
      await withStore(make, 'pseudonymizer', async (s) => {
        const p = new StorePseudonymizer(s, 'p', POLICY);
        const results = await Promise.all(
          Array.from({ length: 80 }, (_, i) => p.resolve({ patient: key(`PAT${i % 4}`), uids: [`1.7.${i % 4}`, `1.7.sop.${i}`] })),
        );
        for (let i = 0; i < 80; i++) {
          const same = results[i % 4];
          assert.deepEqual(results[i].patient, same.patient);
          assert.equal(results[i].uids.get(`1.7.${i % 4}`), same.uids.get(`1.7.${i % 4}`));
          assert.equal(results[i].uids.size, 2);
        }
        assert.equal((await s.listPatients('p')).length, 4);
        // A second pseudonymizer (another process) agrees with what the first stored.
        const again = await new StorePseudonymizer(s, 'p', POLICY).resolve({ patient: key('PAT1'), uids: ['1.7.1', '1.7.sop.5'] });
        assert.deepEqual(again.patient, results[1].patient);
        assert.equal(again.uids.get('1.7.sop.5'), results[5].uids.get('1.7.sop.5'));
      });
    });

    it('looks up both ways and deletes a patient with its UIDs', async () => {
      await withStore(make, 'broker', async (s) => {
        const u = await s.mapUids('p', key('MRN1', 'ISS'), ['1.5.1'], POLICY);
        const p = await s.getOrCreatePatient('p', key('MRN1', 'ISS'), POLICY);
        assert.deepEqual((await s.findByPseudonym('p', p.patientId))?.original, key('MRN1', 'ISS'));
        assert.deepEqual((await s.findByOriginal('p', key('MRN1', 'ISS')))?.pseudonym, p);
        assert.equal(await s.findByOriginal('p', key('MRN1')), undefined);
        assert.equal(await s.deletePatient('p', key('MRN1', 'ISS')), true);
        assert.equal(await s.deletePatient('p', key('MRN1', 'ISS')), false);
        assert.equal(await s.findByPseudonym('p', p.patientId), undefined);
        assert.equal(await s.findOriginalUid('p', u.get('1.5.1') as string), undefined);
        const again = await s.getOrCreatePatient('p', key('MRN1', 'ISS'), POLICY);
        assert.notEqual(again.patientId, p.patientId);
      });
    });

    it('exports and re-imports the mapping CSV; existing mappings win', async () => {
      await withStore(make, 'csv', async (s) => {
        await s.getOrCreatePatient('p', key('A,1', 'I"1'), POLICY);
        await s.getOrCreatePatient('p', key('B 2'), POLICY);
        const csv = toMappingCsv(await s.listPatients('p'));
        const rows = parseMappingCsv(csv);
        assert.equal(rows.length, 2);
        assert.deepEqual(rows[0].original, key('A,1', 'I"1'));
        assert.deepEqual(await s.importPatients('p', rows, POLICY), { imported: 0, unchanged: 2, conflicts: 0 });
        const r2 = await s.importPatients('q', rows, POLICY);
        assert.deepEqual(r2, { imported: 2, unchanged: 0, conflicts: 0 });
        assert.deepEqual(await s.listPatients('q').then((l) => l.map((x) => [x.original, x.pseudonym])), await s.listPatients('p').then((l) => l.map((x) => [x.original, x.pseudonym])));
        // Same original, other pseudonym; and a new original claiming a taken pseudonym.
        const conflicting = parseMappingCsv('original_issuer,original_patient_id,pseudonymous_patient_id\n"I""1","A,1",X\nC,D,ANON000002\n');
        assert.deepEqual(await s.importPatients('p', conflicting, POLICY), { imported: 0, unchanged: 0, conflicts: 2 });
        assert.equal((await s.findByOriginal('p', key('A,1', 'I"1')))?.pseudonym.patientId, 'ANON000001');
      });
    });

    it('imports a CTP lookup table and skips pseudonyms it took for new patients', async () => {
      await withStore(make, 'ctp', async (s) => {
        const rows = parseCtpLookupTable('# CTP lookup\nptid/MRN7=ANON000001\nptid/MRN\\=8 = ANON000003\nother/x=y\n\n');
        assert.equal(rows.length, 2);
        assert.deepEqual(await s.importPatients('p', rows, POLICY), { imported: 2, unchanged: 0, conflicts: 0 });
        assert.equal((await s.findByOriginal('p', key('MRN=8')))?.pseudonym.patientId, 'ANON000003');
        // The counter skips the imported pseudonyms.
        const ids = [];
        for (const id of ['N1', 'N2', 'N3']) ids.push((await s.getOrCreatePatient('p', key(id), POLICY)).patientId);
        assert.deepEqual(ids, ['ANON000002', 'ANON000004', 'ANON000005']);
      });
    });

    it('migrates idempotently', async () => {
      await withStore(make, 'migrate', async (s) => {
        await s.getOrCreatePatient('p', key('A'), POLICY);
        await s.migrate();
        assert.equal((await s.listPatients('p')).length, 1);
      });
    });
  });
}
