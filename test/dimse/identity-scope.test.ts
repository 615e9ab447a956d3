// Per-project access lists over DIMSE: an association whose user identity maps to a user sees only
// that user's projects in C-FIND (C-MOVE/C-GET select instances through the same scoped index);
// without a user identity nothing is limited (the calling-AE allow-list guards those peers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthService } from '../../src/auth/auth-service.ts';
import { openSqliteAuth } from '../../src/auth/open-sqlite-auth.ts';
import { Dataset } from '../../src/dicom/index.ts';
import { startDimseServer } from '../../src/dimse-server/start-dimse-server.ts';
import { authenticateWith, readScopeWith } from '../../src/dimse-server/user-identity.ts';
import { associate, standardContexts, type UserIdentity } from '../../src/dimse/scu.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { memoryArchive } from '../http/archive-fixture.ts';

const PW = 'a long enough password';

test('C-FIND with a user identity sees only the user\'s projects', async () => {
  const archive = memoryArchive();
  const db = openSqliteAuth(':memory:');
  const auth = new AuthService({ store: db.users });
  await auth.addUser('lung-reader', PW, ['researcher'], ['lung']);
  await auth.addUser('boss', PW, ['admin'], []);
  const { ingest, index, blobs } = archive.rest.archive;
  for (const [n, project] of [[1, 'lung'], [2, 'brain'], [3, undefined]] as const) {
    const r = await ingest.ingest(syntheticInstance({ patientId: `DS-${n}`, studyInstanceUid: `1.2.826.0.3.${n}`, seriesInstanceUid: `1.2.826.0.3.${n}.1`, sopInstanceUid: `1.2.826.0.3.${n}.1.1`, modality: 'CT', size: 4 }), { transport: 'dimse', ...(project ? { project } : {}) });
    assert.notEqual(r.status, 'rejected');
  }
  const server = await startDimseServer(
    { ingest, index, blobs, authenticate: authenticateWith(auth), readScope: readScopeWith(auth, 'archive') },
    { aet: 'DICOMGATE', host: '127.0.0.1', port: 0, peers: [] },
  );
  const studies = async (userIdentity?: UserIdentity): Promise<string[]> => {
    const scu = await associate({ host: '127.0.0.1', port: server.port, callingAe: 'FINDSCU', calledAe: 'DICOMGATE', contexts: standardContexts(), ...(userIdentity ? { userIdentity } : {}) });
    const q = new Dataset({ explicitVR: true });
    q.setString(0x00080052, 'CS', 'STUDY');
    q.setString(0x0020000d, 'UI', '');
    const out: string[] = [];
    try {
      for await (const ds of scu.find('study', q)) out.push(ds.string(0x0020000d) ?? '');
    } finally {
      await scu.release();
    }
    return out.sort();
  };
  try {
    assert.deepEqual(await studies({ type: 2, primary: 'lung-reader', secondary: PW }), ['1.2.826.0.3.1']);
    assert.deepEqual(await studies({ type: 2, primary: 'boss', secondary: PW }), ['1.2.826.0.3.1', '1.2.826.0.3.2', '1.2.826.0.3.3']);
    assert.deepEqual(await studies(), ['1.2.826.0.3.1', '1.2.826.0.3.2', '1.2.826.0.3.3'], 'no identity: not limited');
  } finally {
    await server.close();
    await archive.close();
    db.close();
  }
});
