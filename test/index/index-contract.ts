// The ArchiveIndex contract: every implementation (SQLite now, PostgreSQL later) runs this suite
// unchanged through a factory. Not a *.test.ts itself; see sqlite-index.test.ts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isAppError } from '../../src/core/errors.ts';
import type { ArchiveIndex, InstanceRecord, MatchQuery, ProjectScope } from '../../src/index/archive-index.ts';
import { scopedIndex } from '../../src/index/scoped-index.ts';
import { resourceIds } from '../../src/index/resource-ids.ts';

export interface IndexFactory {
  /** A fresh, empty index. */
  open(): Promise<ArchiveIndex>;
}

let sopCounter = 0;

export function record(t: Record<string, string | undefined>, extra: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    tags: {
      PatientID: 'PAT1',
      StudyInstanceUID: '1.2.3.1',
      SeriesInstanceUID: '1.2.3.1.1',
      SOPInstanceUID: `1.2.3.9.${++sopCounter}`,
      ...t,
    },
    blobKey: randomBytes(16).toString('hex'),
    fileSize: 1000,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    receivedAt: new Date('2026-01-02T03:04:05.000Z'),
    source: { transport: 'dimse', remoteAe: 'MODALITY', calledAe: 'DICOMGATE', remoteHost: '127.0.0.1' },
    ...extra,
  };
}

function ids(page: { matches: { tags: Record<string, string | null> }[] }, keyword: string): string[] {
  return page.matches.map((m) => m.tags[keyword] ?? '').sort();
}

export function indexContract(name: string, factory: IndexFactory): void {
  describe(`ArchiveIndex contract: ${name}`, () => {
    describe('store and look up', () => {
      let index: ArchiveIndex;
      before(async () => {
        index = await factory.open();
      });
      after(() => index.close());

      it('stores an instance, creating its patient, study and series, with Orthanc ids', async () => {
        const r = record({ PatientName: 'Doe^John', StudyDate: '20200115', Modality: 'CT', SOPInstanceUID: '1.2.3.9.100', InstanceNumber: '1' });
        const [o] = await index.storeInstances([r], 'keep-first');
        assert.equal(o.status, 'stored');
        assert.deepEqual(o.status === 'stored' && o.created, ['patient', 'study', 'series', 'instance']);
        const expected = resourceIds({ patientId: 'PAT1', studyInstanceUid: '1.2.3.1', seriesInstanceUid: '1.2.3.1.1', sopInstanceUid: '1.2.3.9.100' });
        assert.deepEqual(o.ids, expected);

        const [o2] = await index.storeInstances([record({ Modality: 'CT', InstanceNumber: '2' })], 'keep-first');
        assert.deepEqual(o2.status === 'stored' && o2.created, ['instance']);

        const patient = await index.getResource('patient', expected.patient);
        assert.equal(patient?.tags.PatientName, 'Doe^John');
        assert.equal(patient?.parentId, undefined);
        const study = await index.getResource('study', expected.study);
        assert.equal(study?.parentId, expected.patient);
        assert.equal(study?.tags.StudyDate, '20200115');
        assert.equal(study?.tags.ModalitiesInStudy, 'CT');
        assert.equal(study?.tags.AccessionNumber, null, 'absent attributes are null');
        const inst = await index.getResource('instance', expected.instance);
        assert.equal(inst?.parentId, expected.series);
        assert.equal(inst?.file?.blobKey, r.blobKey);
        assert.equal(inst?.file?.fileSize, 1000);
        assert.equal(inst?.file?.transferSyntaxUid, '1.2.840.10008.1.2.1');
        assert.equal(inst?.file?.receivedAt, '2026-01-02T03:04:05.000Z');
        assert.deepEqual(inst?.file?.source, r.source);
        assert.equal(await index.getResource('study', expected.patient), undefined);

        assert.deepEqual((await index.findByUid('study', '1.2.3.1')).map((s) => s.id), [expected.study]);
        assert.deepEqual((await index.findByUid('instance', '1.2.3.9.100')).map((s) => s.id), [expected.instance]);
        assert.deepEqual(await index.findByUid('series', '9.9.9'), []);
        assert.equal((await index.listChildren('series', expected.series)).length, 2);
        assert.deepEqual((await index.listChildren('patient', expected.patient)).map((s) => s.id), [expected.study]);
        const all = await index.listInstances('patient', expected.patient);
        assert.deepEqual(all.map((i) => i.tags.InstanceNumber), ['1', '2']);
        assert.ok(all.every((i) => i.file?.blobKey));
        assert.deepEqual((await index.listInstances('instance', expected.instance)).map((i) => i.id), [expected.instance]);
        assert.ok(await index.hasBlobKey(r.blobKey));
        assert.equal(await index.hasBlobKey('0'.repeat(32)), false);
        assert.deepEqual(await index.statistics(), { patients: 1, studies: 1, series: 1, instances: 2, totalSize: 2000 });
      });

      it('an empty PatientID is the empty string, as in Orthanc', async () => {
        const [o] = await index.storeInstances([record({ PatientID: undefined, StudyInstanceUID: '7.7', SeriesInstanceUID: '7.7.1' })], 'keep-first');
        assert.equal(o.ids.patient, 'da39a3ee-5e6b4b0d-3255bfef-95601890-afd80709');
        assert.equal((await index.getResource('patient', o.ids.patient))?.tags.PatientID, '');
      });

      it('rejects a record without its UIDs and records nothing of its batch', async () => {
        const before = await index.statistics();
        await assert.rejects(
          index.storeInstances([record({ StudyInstanceUID: '8.8' }), record({ SeriesInstanceUID: undefined })], 'keep-first'),
          (e) => isAppError(e, 'DICOM_MISSING_UID'),
        );
        assert.deepEqual(await index.statistics(), before);
        assert.deepEqual(await index.findByUid('study', '8.8'), []);
      });
    });

    describe('duplicates', () => {
      let index: ArchiveIndex;
      before(async () => {
        index = await factory.open();
      });
      after(() => index.close());

      it('keep-first keeps the first and reports duplicate, also within one batch', async () => {
        const first = record({ SOPInstanceUID: '5.5.1' });
        const again = record({ SOPInstanceUID: '5.5.1', PatientName: 'Changed' });
        const [a, b] = await index.storeInstances([first, again], 'keep-first');
        assert.equal(a.status, 'stored');
        assert.equal(b.status, 'duplicate');
        assert.deepEqual(b.ids, a.ids);
        const [c] = await index.storeInstances([record({ SOPInstanceUID: '5.5.1' })], 'keep-first');
        assert.equal(c.status, 'duplicate');
        const inst = await index.getResource('instance', a.ids.instance);
        assert.equal(inst?.file?.blobKey, first.blobKey);
        assert.equal((await index.statistics()).instances, 1);
      });

      it('overwrite replaces the instance and returns the old blob key', async () => {
        const first = record({ SOPInstanceUID: '5.5.2', InstanceNumber: '1' });
        const second = record({ SOPInstanceUID: '5.5.2', InstanceNumber: '9' });
        await index.storeInstances([first], 'keep-first');
        const [o] = await index.storeInstances([second], 'overwrite');
        assert.equal(o.status, 'replaced');
        assert.equal(o.status === 'replaced' && o.replacedBlobKey, first.blobKey);
        const inst = await index.getResource('instance', o.ids.instance);
        assert.equal(inst?.file?.blobKey, second.blobKey);
        assert.equal(inst?.tags.InstanceNumber, '9');
        assert.equal(await index.hasBlobKey(first.blobKey), false);
        assert.equal((await index.findByUid('instance', '5.5.2')).length, 1);
      });

      it('overwrite with a corrected PatientID moves the instance and removes the emptied hierarchy', async () => {
        const first = record({ PatientID: 'OLD', StudyInstanceUID: '6.1', SeriesInstanceUID: '6.1.1', SOPInstanceUID: '6.1.1.1' });
        const [a] = await index.storeInstances([first], 'keep-first');
        const [b] = await index.storeInstances([record({ PatientID: 'NEW', StudyInstanceUID: '6.1', SeriesInstanceUID: '6.1.1', SOPInstanceUID: '6.1.1.1' })], 'overwrite');
        assert.equal(b.status, 'replaced');
        assert.notEqual(b.ids.instance, a.ids.instance);
        assert.equal(await index.getResource('patient', a.ids.patient), undefined);
        assert.equal(await index.getResource('study', a.ids.study), undefined);
        assert.ok(await index.getResource('instance', b.ids.instance));
      });
    });

    describe('queries', () => {
      let index: ArchiveIndex;
      const q = (query: MatchQuery) => index.query(query);
      before(async () => {
        index = await factory.open();
        const rs = [
          record({ PatientID: 'P1', PatientName: 'Doe^John', StudyInstanceUID: 'S1', SeriesInstanceUID: 'S1.1', StudyDate: '20200115', StudyTime: '103000', Modality: 'CT', AccessionNumber: 'A1' }),
          record({ PatientID: 'P1', PatientName: 'Doe^John', StudyInstanceUID: 'S1', SeriesInstanceUID: 'S1.1', StudyDate: '20200115', Modality: 'CT' }),
          record({ PatientID: 'P1', PatientName: 'Doe^John', StudyInstanceUID: 'S2', SeriesInstanceUID: 'S2.1', StudyDate: '20210301', StudyTime: '110030', Modality: 'MR' }),
          record({ PatientID: 'P1', PatientName: 'Doe^John', StudyInstanceUID: 'S2', SeriesInstanceUID: 'S2.2', StudyDate: '20210301', Modality: 'RTSTRUCT' }),
          record({ PatientID: 'P2', PatientName: 'DOE^JANE', StudyInstanceUID: 'S3', SeriesInstanceUID: 'S3.1', StudyDate: '20200620', StudyTime: '1101', Modality: 'CT' }),
          record({ PatientID: 'P3', PatientName: 'Smith^Ann', StudyInstanceUID: 'S4', SeriesInstanceUID: 'S4.1', StudyDate: '20191231', Modality: 'MR' }),
          record({ PatientID: 'P4', PatientName: 'Müller^Jürgen', StudyInstanceUID: 'S5', SeriesInstanceUID: 'S5.1', StudyDate: '', Modality: 'PT' }),
          record({ PatientID: 'P5', PatientName: 'A_B%C[1]', StudyInstanceUID: 'S6', SeriesInstanceUID: 'S6.1', Modality: 'OT' }),
          record({ PatientID: 'P6', PatientName: 'AxBxC', StudyInstanceUID: 'S7', SeriesInstanceUID: 'S7.1', Modality: 'OT', OtherPatientIDs: 'X1\\X2' }),
        ];
        await index.storeInstances(rs, 'keep-first');
      });
      after(() => index.close());

      it('universal matching: empty and "*" match everything, including absent values', async () => {
        assert.equal((await q({ level: 'study' })).matches.length, 7);
        assert.equal((await q({ level: 'study', keys: { AccessionNumber: '' } })).matches.length, 7);
        assert.equal((await q({ level: 'study', keys: { AccessionNumber: '*', PatientName: '' } })).matches.length, 7);
      });

      it('single value matching is exact; PN case folding is an option', async () => {
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: 'Doe^John' } }), 'PatientID'), ['P1']);
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: 'doe^john' } }), 'PatientID'), []);
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: 'doe^john' }, caseInsensitivePN: true }), 'PatientID'), ['P1']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { AccessionNumber: 'A1' } }), 'StudyInstanceUID'), ['S1']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { AccessionNumber: 'a1' }, caseInsensitivePN: true }), 'StudyInstanceUID'), [], 'only PN folds case');
      });

      it('wildcards * and ? are case-sensitive unless PN folding is on, and SQL pattern characters are literal', async () => {
        assert.deepEqual(ids(await q({ level: 'study', keys: { PatientName: 'Doe*' } }), 'StudyInstanceUID'), ['S1', 'S2']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { PatientName: 'doe*' }, caseInsensitivePN: true }), 'StudyInstanceUID'), ['S1', 'S2', 'S3']);
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: 'D?e^J*' } }), 'PatientID'), ['P1']);
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: 'muller*' }, caseInsensitivePN: true }), 'PatientID'), ['P4'], 'accents fold too');
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: 'Müller^J?rgen' } }), 'PatientID'), ['P4'], '? is one character, not one byte');
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: 'A_B*' } }), 'PatientID'), ['P5'], '_ is not a wildcard');
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: '*%C[1]' } }), 'PatientID'), ['P5'], '% and [ ] are literal');
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: 'A?B?C*' } }), 'PatientID'), ['P5', 'P6']);
        assert.deepEqual(ids(await q({ level: 'patient', keys: { PatientName: '**Smith*' } }), 'PatientID'), ['P3']);
      });

      it('date and time ranges: A-B, -B, A-; empty values never match a range', async () => {
        assert.deepEqual(ids(await q({ level: 'study', keys: { StudyDate: '20200101-20201231' } }), 'StudyInstanceUID'), ['S1', 'S3']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { StudyDate: '-20191231' } }), 'StudyInstanceUID'), ['S4']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { StudyDate: '20210101-' } }), 'StudyInstanceUID'), ['S2']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { StudyDate: '20200115' } }), 'StudyInstanceUID'), ['S1']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { StudyTime: '1000-1100' } }), 'StudyInstanceUID'), ['S1', 'S2'], '110030 is within 11:00');
        assert.deepEqual(ids(await q({ level: 'study', keys: { StudyTime: '1101-' } }), 'StudyInstanceUID'), ['S3']);
        await assert.rejects(q({ level: 'study', keys: { StudyDate: '2020-01-01' } }), (e) => isAppError(e, 'QUERY_INVALID'));
      });

      it('UID lists and value lists', async () => {
        assert.deepEqual(ids(await q({ level: 'study', keys: { StudyInstanceUID: 'S1\\S3\\nope' } }), 'StudyInstanceUID'), ['S1', 'S3']);
        assert.deepEqual(ids(await q({ level: 'series', keys: { Modality: 'CT\\PT' } }), 'SeriesInstanceUID'), ['S1.1', 'S3.1', 'S5.1']);
      });

      it('multi-valued attributes match any of their values', async () => {
        assert.deepEqual(ids(await q({ level: 'study', keys: { ModalitiesInStudy: 'RTSTRUCT' } }), 'StudyInstanceUID'), ['S2']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { ModalitiesInStudy: 'MR\\CT' } }), 'StudyInstanceUID'), ['S1', 'S2', 'S3', 'S4']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { ModalitiesInStudy: 'RT*' } }), 'StudyInstanceUID'), ['S2']);
        assert.equal((await q({ level: 'study', keys: { StudyInstanceUID: 'S2' } })).matches[0].tags.ModalitiesInStudy, 'MR\\RTSTRUCT');
        assert.deepEqual(ids(await q({ level: 'patient', keys: { OtherPatientIDs: 'X2' } }), 'PatientID'), ['P6']);
        assert.deepEqual(ids(await q({ level: 'patient', keys: { OtherPatientIDs: 'X' } }), 'PatientID'), []);
      });

      it('keys from upper and lower levels constrain the query level', async () => {
        assert.deepEqual(ids(await q({ level: 'series', keys: { PatientName: 'Doe^John', StudyDate: '20210101-' } }), 'SeriesInstanceUID'), ['S2.1', 'S2.2']);
        assert.deepEqual(ids(await q({ level: 'study', keys: { Modality: 'RTSTRUCT' } }), 'StudyInstanceUID'), ['S2']);
        assert.deepEqual(ids(await q({ level: 'patient', keys: { Modality: 'MR', StudyDate: '2021*' } }), 'PatientID'), ['P1']);
        const inst = await q({ level: 'instance', keys: { StudyInstanceUID: 'S1', Modality: 'CT' } });
        assert.equal(inst.matches.length, 2);
        assert.equal(inst.matches[0].tags.PatientName, 'Doe^John', 'ancestor tags are returned');
      });

      it('within restricts to one parent resource', async () => {
        const [study] = (await q({ level: 'study', keys: { StudyInstanceUID: 'S2' } })).matches;
        const series = await q({ level: 'series', within: { level: 'study', id: study.id } });
        assert.deepEqual(ids(series, 'SeriesInstanceUID'), ['S2.1', 'S2.2']);
        assert.ok(series.matches.every((m) => m.parentId === study.id));
        const inst = await q({ level: 'instance', within: { level: 'patient', id: study.parentId! } });
        assert.equal(inst.matches.length, 4);
      });

      it('pages with limit/offset in a stable order', async () => {
        const all = (await q({ level: 'study' })).matches.map((m) => m.id);
        const p1 = await q({ level: 'study', limit: 3 });
        const p2 = await q({ level: 'study', limit: 3, offset: 3 });
        const p3 = await q({ level: 'study', limit: 3, offset: 6 });
        assert.equal(p1.hasMore, true);
        assert.equal(p2.hasMore, true);
        assert.equal(p3.hasMore, false);
        assert.deepEqual([...p1.matches, ...p2.matches, ...p3.matches].map((m) => m.id), all);
        assert.deepEqual((await q({ level: 'study', offset: 5 })).matches.map((m) => m.id), all.slice(5));
        assert.equal((await q({ level: 'study', limit: 0 })).matches.length, 0);
      });

      it('orders by indexed tags of the level or its parents, absent values first ascending, pk breaking ties, and pages stay consistent', async () => {
        const uids = (page: { matches: { tags: Record<string, string | null> }[] }) => page.matches.map((m) => m.tags.StudyInstanceUID);
        assert.deepEqual(uids(await q({ level: 'study', orderBy: [{ key: 'StudyDate', direction: 'asc' }] })), ['S6', 'S7', 'S5', 'S4', 'S1', 'S3', 'S2']);
        const desc = uids(await q({ level: 'study', orderBy: [{ key: 'StudyDate', direction: 'desc' }] }));
        assert.deepEqual(desc, ['S2', 'S3', 'S1', 'S4', 'S5', 'S7', 'S6']);
        const pages: (string | null)[] = [];
        for (let offset = 0; offset < 7; offset += 2) pages.push(...uids(await q({ level: 'study', orderBy: [{ key: '00080020', direction: 'desc' }], limit: 2, offset })));
        assert.deepEqual(pages, desc, 'pages of a sorted query join up to the whole list');
        // Parent attribute first, own attribute second; text compares byte by byte (upper case before lower).
        assert.deepEqual(
          uids(await q({ level: 'study', orderBy: [{ key: 'PatientName', direction: 'asc' }, { key: 'StudyDate', direction: 'desc' }] })),
          ['S6', 'S7', 'S3', 'S2', 'S1', 'S5', 'S4'],
        );
        assert.deepEqual(ids(await q({ level: 'study', keys: { PatientID: 'P1' }, orderBy: [{ key: 'StudyDate', direction: 'desc' }], limit: 1 }), 'StudyInstanceUID'), ['S2'], 'with criteria');
        const series = await q({ level: 'series', orderBy: [{ key: 'Modality', direction: 'asc' }, { key: 'SeriesInstanceUID', direction: 'asc' }] });
        assert.deepEqual(series.matches.map((m) => m.tags.Modality), ['CT', 'CT', 'MR', 'MR', 'OT', 'OT', 'PT', 'RTSTRUCT']);
        for (const bad of [{ key: 'Modality' }, { key: 'ModalitiesInStudy' }, { key: 'NoSuchTag' }, { key: '00181030' }]) {
          await assert.rejects(q({ level: 'study', orderBy: [{ key: bad.key, direction: 'asc' }] }), (e) => isAppError(e, 'QUERY_INVALID'), bad.key);
        }
      });

      it('computes related-counts on request and reports keys it cannot apply', async () => {
        const r = await q({ level: 'study', keys: { StudyInstanceUID: 'S2', '00081030': 'x*', Unknown: 'y' }, returnKeys: ['NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'] });
        assert.deepEqual(r.ignoredKeys.sort(), ['Unknown']);
        assert.equal(r.matches.length, 0, 'StudyDescription (0008,1030) is kept and matched');
        const s = await q({ level: 'study', keys: { StudyInstanceUID: 'S2', Unknown: 'y' }, returnKeys: ['NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'] });
        assert.equal(s.matches[0].tags.NumberOfStudyRelatedSeries, '2');
        assert.equal(s.matches[0].tags.NumberOfStudyRelatedInstances, '2');
        const p = await q({ level: 'patient', keys: { PatientID: 'P1' }, returnKeys: ['NumberOfPatientRelatedStudies', 'NumberOfPatientRelatedInstances'] });
        assert.equal(p.matches[0].tags.NumberOfPatientRelatedStudies, '2');
        assert.equal(p.matches[0].tags.NumberOfPatientRelatedInstances, '4');
      });
    });

    describe('delete and changes', () => {
      let index: ArchiveIndex;
      before(async () => {
        index = await factory.open();
      });
      after(() => index.close());

      it('deletes with cascade, returns blob keys, removes emptied ancestors, updates ModalitiesInStudy', async () => {
        const a = record({ StudyInstanceUID: 'D1', SeriesInstanceUID: 'D1.1', Modality: 'CT' });
        const b = record({ StudyInstanceUID: 'D1', SeriesInstanceUID: 'D1.1', Modality: 'CT' });
        const c = record({ StudyInstanceUID: 'D1', SeriesInstanceUID: 'D1.2', Modality: 'RTDOSE' });
        const d = record({ StudyInstanceUID: 'D2', SeriesInstanceUID: 'D2.1', Modality: 'MR' });
        const [oa, , oc, od] = await index.storeInstances([a, b, c, d], 'keep-first');
        assert.equal((await index.getResource('study', oa.ids.study))?.tags.ModalitiesInStudy, 'CT\\RTDOSE');

        const r1 = await index.deleteResource('instance', oc.ids.instance);
        assert.deepEqual(r1?.blobKeys, [c.blobKey]);
        assert.deepEqual(r1?.deleted, [{ level: 'instance', id: oc.ids.instance }, { level: 'series', id: oc.ids.series }]);
        assert.deepEqual(r1?.remainingAncestor, { level: 'study', id: oa.ids.study });
        assert.equal((await index.getResource('study', oa.ids.study))?.tags.ModalitiesInStudy, 'CT');

        const r2 = await index.deleteResource('study', oa.ids.study);
        assert.deepEqual(r2?.blobKeys.sort(), [a.blobKey, b.blobKey].sort());
        assert.deepEqual(r2?.remainingAncestor, { level: 'patient', id: oa.ids.patient });
        assert.equal(await index.getResource('series', oa.ids.series), undefined);
        assert.equal(await index.getResource('instance', oa.ids.instance), undefined);
        assert.equal(await index.deleteResource('study', oa.ids.study), undefined);

        const r3 = await index.deleteResource('patient', od.ids.patient);
        assert.deepEqual(r3?.blobKeys, [d.blobKey]);
        assert.equal(r3?.remainingAncestor, undefined);
        assert.deepEqual(await index.statistics(), { patients: 0, studies: 0, series: 0, instances: 0, totalSize: 0 });
      });

      it('logs changes in order and pages through them', async () => {
        const start = (await index.changes({ since: 0, limit: 100_000 })).last;
        const [o] = await index.storeInstances([record({ PatientID: 'C1', StudyInstanceUID: 'C1.1', SeriesInstanceUID: 'C1.1.1' })], 'keep-first');
        await index.storeInstances([record({ PatientID: 'C1', StudyInstanceUID: 'C1.1', SeriesInstanceUID: 'C1.1.1' })], 'keep-first');
        await index.deleteResource('patient', o.ids.patient);
        const page = await index.changes({ since: start, limit: 100 });
        assert.equal(page.done, true);
        assert.deepEqual(page.changes.map((c) => `${c.type}:${c.level}`), [
          'NewPatient:patient', 'NewStudy:study', 'NewSeries:series', 'NewInstance:instance', 'NewInstance:instance', 'Deleted:patient',
        ]);
        assert.equal(page.changes[0].resourceId, o.ids.patient);
        assert.ok(page.changes.every((c, i) => i === 0 || c.seq > page.changes[i - 1].seq));
        assert.ok(!Number.isNaN(Date.parse(page.changes[0].date)));
        const first = await index.changes({ since: start, limit: 4 });
        assert.equal(first.done, false);
        assert.equal(first.changes.length, 4);
        const rest = await index.changes({ since: first.last, limit: 4 });
        assert.equal(rest.done, true);
        assert.deepEqual(rest.changes.map((c) => c.seq), page.changes.slice(4).map((c) => c.seq));
        const empty = await index.changes({ since: page.last });
        assert.deepEqual(empty, { changes: [], last: page.last, done: true });
      });
    });

    describe('projects, labels, appended changes', () => {
      let index: ArchiveIndex;
      before(async () => {
        index = await factory.open();
      });
      after(() => index.close());

      const src = (project?: string): InstanceRecord['source'] => ({ transport: 'stow', ...(project ? { project } : {}) });
      const A: ProjectScope = { projects: ['A'], unassigned: false };
      const B: ProjectScope = { projects: ['B'], unassigned: false };
      const NONE: ProjectScope = { projects: [], unassigned: true };

      it('records the project per instance and scopes queries, lookups and children by it', async () => {
        // One patient, two studies (A and B); a third study mixes A and no project in one series.
        const [a1] = await index.storeInstances([record({ PatientID: 'PR1', StudyInstanceUID: 'PR.A', SeriesInstanceUID: 'PR.A.1' }, { source: src('A') })], 'keep-first');
        const [b1] = await index.storeInstances([record({ PatientID: 'PR1', StudyInstanceUID: 'PR.B', SeriesInstanceUID: 'PR.B.1' }, { source: src('B') })], 'keep-first');
        const [m1, m2] = await index.storeInstances([
          record({ PatientID: 'PR2', StudyInstanceUID: 'PR.M', SeriesInstanceUID: 'PR.M.1' }, { source: src('A') }),
          record({ PatientID: 'PR2', StudyInstanceUID: 'PR.M', SeriesInstanceUID: 'PR.M.1' }, { source: src() }),
        ], 'keep-first');
        assert.equal((await index.getResource('instance', a1.ids.instance))?.file?.source.project, 'A');
        assert.equal((await index.getResource('instance', m2.ids.instance))?.file?.source.project, undefined);

        const studies = async (scope: ProjectScope) => (await index.query({ level: 'study', keys: { PatientID: 'PR*' }, scope })).matches.map((m) => m.id).sort();
        assert.deepEqual(await studies(A), [a1.ids.study, m1.ids.study].sort());
        assert.deepEqual(await studies(B), [b1.ids.study]);
        assert.deepEqual(await studies(NONE), [m1.ids.study]);
        assert.deepEqual(await studies({ projects: [], unassigned: false }), []);
        const instances = async (scope: ProjectScope) => (await index.query({ level: 'instance', within: { level: 'study', id: m1.ids.study }, scope })).matches.map((m) => m.id);
        assert.deepEqual(await instances(A), [m1.ids.instance]);
        assert.deepEqual(await instances(NONE), [m2.ids.instance]);
        // Related counts count only what the scope sees.
        const count = async (scope?: ProjectScope) =>
          (await index.query({ level: 'patient', keys: { PatientID: 'PR1' }, returnKeys: ['NumberOfPatientRelatedStudies', 'NumberOfPatientRelatedInstances'], ...(scope ? { scope } : {}) })).matches.map((m) => [m.tags.NumberOfPatientRelatedStudies, m.tags.NumberOfPatientRelatedInstances]);
        assert.deepEqual(await count(A), [['1', '1']]);
        assert.deepEqual(await count(), [['2', '2']]);
        // A patient is visible to both projects it holds data of.
        assert.equal(await index.isVisible('patient', a1.ids.patient, A), true);
        assert.equal(await index.isVisible('patient', a1.ids.patient, B), true);
        assert.equal(await index.isVisible('study', a1.ids.study, B), false);
        assert.equal(await index.isVisible('instance', b1.ids.instance, B), true);
        assert.equal(await index.isVisible('instance', b1.ids.instance, A), false);
        assert.equal(await index.isVisible('study', 'no-such-id', A), false);

        const viewA = scopedIndex(index, A);
        assert.equal(await viewA.getResource('study', b1.ids.study), undefined);
        assert.ok(await viewA.getResource('study', a1.ids.study));
        assert.deepEqual((await viewA.listChildren('patient', a1.ids.patient)).map((r) => r.id), [a1.ids.study]);
        assert.deepEqual((await viewA.listInstances('study', m1.ids.study)).map((r) => r.id), [m1.ids.instance]);
        assert.deepEqual(await viewA.findByUid('study', 'PR.B'), []);
        assert.equal(scopedIndex(index, undefined), index);
      });

      it('keeps no project links of deleted resources', async () => {
        const [o] = await index.storeInstances([record({ PatientID: 'PRD', StudyInstanceUID: 'PRD.1', SeriesInstanceUID: 'PRD.1.1' }, { source: src('A') })], 'keep-first');
        await index.setLabel('study', o.ids.study, 'gone', true);
        await index.deleteResource('patient', o.ids.patient);
        // Stored again under the same ids with another project: the old link must not survive.
        const [again] = await index.storeInstances([record({ PatientID: 'PRD', StudyInstanceUID: 'PRD.1', SeriesInstanceUID: 'PRD.1.1' }, { source: src('B') })], 'keep-first');
        assert.equal(await index.isVisible('study', again.ids.study, A), false);
        assert.equal(await index.isVisible('study', again.ids.study, B), true);
        assert.deepEqual(await index.labels('study', again.ids.study), []);
        assert.ok(!(await index.allLabels()).includes('gone'));
      });

      it('sets, lists and matches labels (All, Any, None)', async () => {
        const [x] = await index.storeInstances([record({ PatientID: 'LB1', StudyInstanceUID: 'LB.1', SeriesInstanceUID: 'LB.1.1' }, { source: src('A') })], 'keep-first');
        const [y] = await index.storeInstances([record({ PatientID: 'LB1', StudyInstanceUID: 'LB.2', SeriesInstanceUID: 'LB.2.1' }, { source: src('B') })], 'keep-first');
        assert.equal(await index.setLabel('study', x.ids.study, 'reviewed', true), true);
        assert.equal(await index.setLabel('study', x.ids.study, 'reviewed', true), true);
        assert.equal(await index.setLabel('study', x.ids.study, 'lung', true), true);
        assert.equal(await index.setLabel('study', y.ids.study, 'lung', true), true);
        assert.equal(await index.setLabel('study', 'unknown', 'lung', true), false);
        assert.deepEqual(await index.labels('study', x.ids.study), ['lung', 'reviewed']);
        const find = async (labels: string[], constraint: 'All' | 'Any' | 'None') =>
          (await index.query({ level: 'study', keys: { PatientID: 'LB1' }, labels: { labels, constraint } })).matches.map((m) => m.id).sort();
        assert.deepEqual(await find(['lung', 'reviewed'], 'All'), [x.ids.study]);
        assert.deepEqual(await find(['lung', 'reviewed'], 'Any'), [x.ids.study, y.ids.study].sort());
        assert.deepEqual(await find(['reviewed'], 'None'), [y.ids.study]);
        assert.ok((await index.allLabels()).includes('reviewed'));
        assert.deepEqual(await index.allLabels(B), ['lung']);
        assert.equal(await scopedIndex(index, B).setLabel('study', x.ids.study, 'sneaky', true), false);
        assert.equal(await index.setLabel('study', x.ids.study, 'reviewed', false), true);
        assert.deepEqual(await index.labels('study', x.ids.study), ['lung']);
      });

      it('appends Stable* changes to the log, after the New* ones', async () => {
        const [o] = await index.storeInstances([record({ PatientID: 'ST1', StudyInstanceUID: 'ST.1', SeriesInstanceUID: 'ST.1.1' }, { source: src('A') })], 'keep-first');
        const before = (await index.changes({ since: 0, limit: 100_000 })).last;
        const seq = await index.appendChange('StableStudy', 'study', o.ids.study);
        assert.ok(seq > before);
        const page = await index.changes({ since: before });
        assert.deepEqual(page.changes.map((c) => [c.seq, c.type, c.level, c.resourceId]), [[seq, 'StableStudy', 'study', o.ids.study]]);
        // A scoped reader sees changes of its projects only.
        assert.equal((await scopedIndex(index, B).changes({ since: before })).changes.length, 0);
        assert.equal((await scopedIndex(index, A).changes({ since: before })).changes.length, 1);
      });
    });
  });
}
