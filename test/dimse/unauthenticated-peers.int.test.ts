// With authentication on (the default outside --dev), a DIMSE peer that sends no user identity is
// authorised by its calling AE title: only allow-listed AEs and known peers get in; any other is
// rejected with "calling AE title not recognized" (PS3.8 9.3.4). echoscu is the real peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthService } from '../../src/auth/auth-service.ts';
import { openSqliteAuth } from '../../src/auth/open-sqlite-auth.ts';
import { defaultConfig, type ResolvedConfig } from '../../src/config/schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startServer } from '../../src/main.ts';
import { runDcmtk } from '../helpers/dcmtk.ts';

const PASSWORD = 'correct horse battery staple';
const CT = fileURLToPath(new URL('../fixtures/dicom/CT_small.dcm', import.meta.url));

async function withServer(opts: { auth: boolean; unauthenticatedPeers?: 'known' | 'any'; intakes?: ResolvedConfig['intakes'] }, fn: (port: number) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dg-anon-peers-'));
  try {
    if (opts.auth) {
      const db = openSqliteAuth(join(dataDir, 'index.sqlite'));
      await new AuthService({ store: db.users }).addUser('scu', PASSWORD, ['admin'], ['*']);
      db.close();
    }
    const base = defaultConfig();
    const config: ResolvedConfig = {
      ...base,
      dataDir,
      host: '127.0.0.1',
      dev: !opts.auth,
      dicom: {
        ...base.dicom,
        port: 0,
        allowedCallingAets: [],
        peers: [{ aet: 'KNOWN_PACS', host: '127.0.0.1', port: 1 }],
        unauthenticatedPeers: opts.unauthenticatedPeers ?? 'known',
      },
      http: { ...base.http, port: 0 },
      intakes: opts.intakes ?? [],
      auth: { ...base.auth, enabled: opts.auth },
      log: { level: 'silent' as const },
    };
    const server = await startServer(config, silentLogger);
    try {
      await fn(server.dicomPort);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const echo = (port: number, callingAe: string, calledAe = 'DICOMGATE') =>
  runDcmtk('echoscu', ['-aet', callingAe, '-aec', calledAe, '127.0.0.1', String(port)], { timeoutMs: 20_000 });
/** A C-STORE with a username/password user identity (of DCMTK's SCUs only storescu sends one). */
const storeAs = (port: number, callingAe: string, password: string) =>
  runDcmtk('storescu', ['-aet', callingAe, '-aec', 'DICOMGATE', '--user', 'scu', '--password', password, '127.0.0.1', String(port), CT], { timeoutMs: 20_000 });

test('auth on: unknown calling AE without identity is rejected, a known peer and a user identity get in', async () => {
  await withServer({ auth: true }, async (port) => {
    const stranger = await echo(port, 'STRANGER');
    assert.notEqual(stranger.code, 0, 'an unknown AE without a user identity must be rejected');
    assert.match(stranger.stdout + stranger.stderr, /Calling AE Title Not Recognized/i);
    const known = await echo(port, 'KNOWN_PACS');
    assert.equal(known.code, 0, known.stderr);
    const withUser = await storeAs(port, 'STRANGER', PASSWORD);
    assert.equal(withUser.code, 0, withUser.stderr);
    const wrongUser = await storeAs(port, 'KNOWN_PACS', 'not the password');
    assert.notEqual(wrongUser.code, 0, 'a wrong identity is refused even from a known AE');
  });
});

test('auth on with dicom.unauthenticatedPeers "any": the calling AE is not checked', async () => {
  await withServer({ auth: true, unauthenticatedPeers: 'any' }, async (port) => {
    const stranger = await echo(port, 'STRANGER');
    assert.equal(stranger.code, 0, stranger.stderr);
  });
});

test('--dev (auth off): any calling AE gets in', async () => {
  await withServer({ auth: false }, async (port) => {
    const stranger = await echo(port, 'STRANGER');
    assert.equal(stranger.code, 0, stranger.stderr);
  });
});

test('an intake with its own calling-AE allow-list rejects other peers, even in --dev; the main AE is not affected', async () => {
  await withServer({ auth: false, intakes: [{ aet: 'RESEARCH_IN', project: 'basic', allowedCallingAets: ['TPS1'] }] }, async (port) => {
    const tps = await echo(port, 'TPS1', 'RESEARCH_IN');
    assert.equal(tps.code, 0, tps.stderr);
    const other = await echo(port, 'SCANNER', 'RESEARCH_IN');
    assert.notEqual(other.code, 0, 'a calling AE not on the intake list must be rejected');
    assert.match(other.stdout + other.stderr, /Calling AE Title Not Recognized/i);
    const main = await echo(port, 'SCANNER');
    assert.equal(main.code, 0, main.stderr);
  });
});

test('auth on: an intake allow-list makes its peers known', async () => {
  await withServer({ auth: true, intakes: [{ aet: 'RESEARCH_IN', project: 'basic', allowedCallingAets: ['TPS1'] }] }, async (port) => {
    const tps = await echo(port, 'TPS1', 'RESEARCH_IN');
    assert.equal(tps.code, 0, tps.stderr);
  });
});
