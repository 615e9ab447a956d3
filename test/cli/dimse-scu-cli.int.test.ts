// The DICOM SCU commands against real peers: `send` to a DCMTK storescp (byte-for-byte), `query`
// and `retrieve` (C-GET into a folder and into an archive, C-MOVE to a storescp) against a dicomgate
// server started here, `echo`, and `routes list|test` passing and failing (a closed port).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { parsePart10Meta } from '../../src/dimse/part10-source.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { startStorescp, type RunningTool } from '../helpers/dcmtk.ts';
import { makeZip } from '../helpers/make-zip.ts';
import { runCli as cli } from '../helpers/run-cli.ts';

const STUDY = fileURLToPath(new URL('../../../shared/corpus/synthetic-rt/dicom/P01/ST01', import.meta.url));
const COMPRESSED = fileURLToPath(new URL('../../../shared/corpus/pydicom/JPEG2000.dcm', import.meta.url));
const hasCorpus = existsSync(STUDY) && existsSync(COMPRESSED);
const skip = hasCorpus ? false : 'corpus not present';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
}

function datasetsOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of walk(dir).filter((f) => !f.split('/').pop()!.startsWith('.'))) {
    const b = readFileSync(f);
    const m = parsePart10Meta(b);
    out.set(m.sopInstanceUid, b.subarray(m.datasetOffset));
  }
  return out;
}

/** A port nothing listens on (bound then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

let root: string;
let storescp: RunningTool;
let storescpDir: string;
let moveDest: RunningTool;
let moveDir: string;
let server: RunningServer;
let configFile: string;
let deadPort: number;
let sources: Map<string, Buffer>;
let studyUid = '';

before(async () => {
  if (!hasCorpus) return;
  root = mkdtempSync(join(tmpdir(), 'dg-scu-cli-'));
  storescpDir = join(root, 'storescp');
  mkdirSync(storescpDir);
  storescp = await startStorescp(storescpDir, { extraArgs: ['+B', '-v'] });
  moveDir = join(root, 'movedest');
  mkdirSync(moveDir);
  moveDest = await startStorescp(moveDir, { aeTitle: 'MOVEDEST', extraArgs: ['+B'] });
  deadPort = await closedPort();
  sources = datasetsOf(STUDY);
  configFile = join(root, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      dev: true,
      log: { level: 'silent' },
      dicom: { aet: 'DICOMGATE', peers: [{ aet: 'STORESCP', host: '127.0.0.1', port: storescp.port }, { aet: 'MOVEDEST', host: '127.0.0.1', port: moveDest.port }] },
      destinations: {
        SCP: { kind: 'dicom', aet: 'STORESCP', host: '127.0.0.1', port: storescp.port },
        DEAD: { kind: 'dicom', aet: 'DEAD', host: '127.0.0.1', port: deadPort },
        DISK: { kind: 'folder', root: join(root, 'export'), template: '{SOPInstanceUID}.dcm' },
      },
      pipelines: { fwd: { intake: { calledAe: 'FWD_IN' }, stages: [{ store: true }, { route: { destination: 'SCP', trigger: 'stable-study' } }] } },
    }),
  );
  const cfg = loadConfig({ file: configFile, env: {}, overrides: { dataDir: join(root, 'server-data'), 'dicom.port': 0, 'http.port': 0, host: '127.0.0.1' } });
  server = await startServer(cfg, silentLogger);
});

after(async () => {
  if (!hasCorpus) return;
  await server?.close();
  await storescp?.stop();
  await moveDest?.stop();
  rmSync(root, { recursive: true, force: true });
});

const ourServer = () => `DICOMGATE@127.0.0.1:${server.dicomPort}`;

test('send a folder and a ZIP to storescp: every dataset arrives byte for byte on one association', { skip }, async () => {
  const files = walk(STUDY);
  // Half the files go in a ZIP, the rest as a folder: both input kinds in one run.
  const zipped = files.filter((_, i) => i % 2 === 0);
  const zip = join(root, 'half.zip');
  writeFileSync(zip, makeZip(zipped.map((f, i) => ({ name: `x/${i}.dcm`, data: readFileSync(f), deflate: true }))));
  const folder = join(root, 'rest');
  mkdirSync(folder);
  for (const f of files.filter((_, i) => i % 2 === 1)) writeFileSync(join(folder, f.split('/').pop()!), readFileSync(f));
  const before = readdirSync(storescpDir).length;
  const associations = () => (storescp.output().match(/Association Received/g) ?? []).length;
  const assocBefore = associations();
  const r = await cli(['send', 'STORESCP', folder, zip, '--config', configFile, '--json']);
  assert.equal(r.code, 0, r.out + r.err);
  const summary = JSON.parse(r.out) as { instances: number; sent: number; failed: number };
  assert.equal(summary.instances, files.length);
  assert.equal(summary.sent, files.length);
  const got = datasetsOf(storescpDir);
  assert.equal(got.size - before, files.length);
  for (const [uid, bytes] of sources) assert.ok(got.get(uid)?.equals(bytes), `${uid} arrived changed or not at all`);
  assert.equal(associations() - assocBefore, 1, 'one association for all SOP classes and both inputs');
});

test('send re-encodes native data when the peer takes only implicit VR, refuses to transcode compressed data, exits 1', { skip }, async () => {
  const dir = join(root, 'implicit-only');
  mkdirSync(dir);
  const scp = await startStorescp(dir, { aeTitle: 'IMPLICIT', extraArgs: ['+xi'] });
  try {
    const ct = walk(STUDY).filter((f) => f.includes('/CT/')).slice(0, 3);
    const r = await cli(['send', `IMPLICIT@127.0.0.1:${scp.port}`, ...ct, COMPRESSED]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /success 3, warning 0, failed 1/);
    assert.match(r.out, /re-encoded \(peer refused the stored transfer syntax\): 3/);
    assert.match(r.out, /JPEG2000\.dcm .*DIMSE_NO_CONTEXT/);
    const got = readdirSync(dir);
    assert.equal(got.length, 3);
    for (const f of got) assert.equal(parsePart10Meta(readFileSync(join(dir, f))).transferSyntaxUid, '1.2.840.10008.1.2');
  } finally {
    await scp.stop();
  }
});

test('send: a peer that aborts on a truncated dataset gets a new association for the rest', { skip }, async () => {
  const truncated = fileURLToPath(new URL('../../../shared/corpus/pydicom/rtplan_truncated.dcm', import.meta.url));
  const dir = join(root, 'after-abort');
  mkdirSync(dir);
  const scp = await startStorescp(dir, { aeTitle: 'ABORTER' });
  try {
    const ct = walk(STUDY).filter((f) => f.includes('/CT/')).sort().slice(0, 3);
    const r = await cli(['send', `ABORTER@127.0.0.1:${scp.port}`, ct[0], truncated, ct[1], ct[2], '--json']);
    assert.equal(r.code, 1, r.out + r.err);
    const s = JSON.parse(r.out) as { sent: number; failed: number; failures: { label: string; error?: string }[] };
    assert.equal(s.sent, 3, r.out);
    assert.equal(s.failed, 1);
    assert.equal(s.failures[0].label, truncated);
    assert.equal(readdirSync(dir).length, 3);
  } finally {
    await scp.stop();
  }
});

test('send: unknown peer lists the known ones (exit 2); a closed port says connection refused (exit 1)', { skip }, async () => {
  const u = await cli(['send', 'NOPE', STUDY, '--config', configFile]);
  assert.equal(u.code, 2);
  assert.match(u.err, /unknown peer "NOPE"; known peers: STORESCP \(127\.0\.0\.1:\d+\)/);
  const c = await cli(['send', `X@127.0.0.1:${deadPort}`, STUDY]);
  assert.equal(c.code, 1);
  assert.match(c.err, /connection refused\. Check the host and port/);
  assert.match(c.err, /52 of 52 instances not sent|(\d+) of \1 instances not sent/);
  const bad = await cli(['send', 'X@host', STUDY]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /AET@host:port/);
});

test('echo: Success from our server, connection refused on a closed port', { skip }, async () => {
  const ok = await cli(['echo', ourServer()]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /C-ECHO DICOMGATE@127\.0\.0\.1:\d+: Success/);
  const no = await cli(['echo', `X@127.0.0.1:${deadPort}`]);
  assert.equal(no.code, 1);
  assert.match(no.err, /connection refused/);
});

test('send to dicomgate, then query it at study, series and image level (table and JSON)', { skip }, async () => {
  const s = await cli(['send', ourServer(), STUDY]);
  assert.equal(s.code, 0, s.out + s.err);
  const json = await cli(['query', ourServer(), '-k', 'ModalitiesInStudy', '--json']);
  assert.equal(json.code, 0, json.err);
  const studies = JSON.parse(json.out) as Record<string, { Value?: unknown[] }>[];
  assert.equal(studies.length, 1);
  studyUid = String(studies[0]['0020000D'].Value![0]);
  assert.equal(Number(studies[0]['00201208'].Value![0]), sources.size, 'NumberOfStudyRelatedInstances');
  const table = await cli(['query', ourServer(), '--level', 'series', '-k', `StudyInstanceUID=${studyUid}`]);
  assert.equal(table.code, 0, table.err);
  const lines = table.out.trim().split('\n');
  assert.match(lines[0], /StudyInstanceUID\s+SeriesInstanceUID\s+Modality/);
  assert.equal(lines.length - 1, 6, 'CT, MR, RTDOSE, RTPLAN, RTSTRUCT, SR');
  assert.ok(lines.some((l) => /\bRTPLAN\b/.test(l)));
  const wild = await cli(['query', ourServer(), '--level', 'image', '--only-keys', '-k', `StudyInstanceUID=${studyUid}`, '-k', 'Modality=RT*', '-k', 'SOPInstanceUID', '--json']);
  assert.equal(wild.code, 0, wild.err);
  const rt = JSON.parse(wild.out) as Record<string, { Value?: unknown[] }>[];
  assert.equal(rt.length, 3, 'one RTDOSE, one RTPLAN, one RTSTRUCT instance');
  assert.ok(rt.every((m) => m['00080018'] !== undefined && m['00100010'] === undefined), 'SOPInstanceUID returned, no default keys with --only-keys');
  const none = await cli(['query', ourServer(), '-k', 'StudyDate=19000101-19000102']);
  assert.equal(none.code, 0);
  assert.match(none.err, /0 matches/);
  const bad = await cli(['query', ourServer(), '-k', 'NotAKeyword=1']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /not a DICOM keyword/);
});

test('retrieve (C-GET) into a folder and into an archive: byte-identical; send --study from that archive', { skip }, async () => {
  assert.ok(studyUid, 'the query test ran first');
  const out = join(root, 'get-out');
  const r = await cli(['retrieve', ourServer(), '-k', `StudyInstanceUID=${studyUid}`, '--out', out]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, new RegExp(`completed ${sources.size}, warning 0, failed 0`));
  const got = datasetsOf(out);
  assert.equal(got.size, sources.size);
  for (const [uid, bytes] of sources) assert.ok(got.get(uid)?.equals(bytes), `${uid} retrieved changed`);

  const data = join(root, 'get-archive');
  const a = await cli(['retrieve', ourServer(), '-k', `StudyInstanceUID=${studyUid}`, '--data', data]);
  assert.equal(a.code, 0, a.out + a.err);
  assert.match(a.out, new RegExp(`stored ${sources.size}`));

  const dest = join(root, 'from-archive');
  mkdirSync(dest);
  const scp = await startStorescp(dest, { aeTitle: 'SCP2', extraArgs: ['+B'] });
  try {
    const s = await cli(['send', `SCP2@127.0.0.1:${scp.port}`, '--study', studyUid, '--data', data]);
    assert.equal(s.code, 0, s.out + s.err);
    const back = datasetsOf(dest);
    assert.equal(back.size, sources.size);
    for (const [uid, bytes] of sources) assert.ok(back.get(uid)?.equals(bytes), `${uid} changed through archive and send --study`);
  } finally {
    await scp.stop();
  }
  const missing = await cli(['send', `SCP2@127.0.0.1:${deadPort}`, '--study', '1.2.3.4', '--data', data]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no study 1\.2\.3\.4/);
});

test('retrieve --move to a destination the server knows; an unknown one is reported with the fix', { skip }, async () => {
  assert.ok(studyUid);
  const r = await cli(['retrieve', ourServer(), '-k', `StudyInstanceUID=${studyUid}`, '--move', 'MOVEDEST', '--level', 'study']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, new RegExp(`C-MOVE to MOVEDEST .*completed ${sources.size}, warning 0, failed 0`));
  const got = datasetsOf(moveDir);
  assert.equal(got.size, sources.size);
  for (const [uid, bytes] of sources) assert.ok(got.get(uid)?.equals(bytes), `${uid} moved changed`);
  const u = await cli(['retrieve', ourServer(), '-k', `StudyInstanceUID=${studyUid}`, '--move', 'NOWHERE']);
  assert.equal(u.code, 1);
  assert.match(u.out, /status 0xA801/);
  assert.match(u.err, /does not know the destination AE "NOWHERE"/);
  const noKey = await cli(['retrieve', ourServer()]);
  assert.equal(noKey.code, 2);
  assert.match(noKey.err, /-k StudyInstanceUID=/);
});

test('routes list and routes test: C-ECHO passes, a closed port fails with exit 1, folders are probed', { skip }, async () => {
  const l = await cli(['routes', 'list', '--config', configFile]);
  assert.equal(l.code, 0, l.err);
  assert.match(l.out, /SCP\s+dicom\s+STORESCP@127\.0\.0\.1:\d+\s+<- fwd \(stable-study\)/);
  const ok = await cli(['routes', 'test', 'SCP', '--config', configFile]);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /^PASS\s+SCP\s/m);
  const dead = await cli(['routes', 'test', 'DEAD', '--config', configFile]);
  assert.equal(dead.code, 1);
  assert.match(dead.out, new RegExp(`^FAIL\\s+DEAD\\s+dicom DEAD@127\\.0\\.0\\.1:${deadPort}\\s+cannot connect .*connection refused`, 'm'));
  const all = await cli(['routes', 'test', '--config', configFile, '--json']);
  assert.equal(all.code, 1);
  const rows = JSON.parse(all.out) as { destination: string; ok: boolean }[];
  assert.deepEqual(Object.fromEntries(rows.map((x) => [x.destination, x.ok])), { SCP: true, DEAD: false, DISK: true });
  const unknown = await cli(['routes', 'test', 'NOPE', '--config', configFile]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown destination "NOPE"; configured: SCP, DEAD, DISK/);
});

test('routes test of DICOMweb destinations: QIDO-RS probe of our server passes, a closed port fails', { skip }, async () => {
  const file = join(root, 'web-config.json');
  writeFileSync(
    file,
    JSON.stringify({
      destinations: {
        WEB: { kind: 'dicomweb', url: `http://127.0.0.1:${server.httpPort}/dicom-web` },
        WEB_404: { kind: 'dicomweb', url: `http://127.0.0.1:${server.httpPort}/not-dicomweb` },
        WEB_DOWN: { kind: 'dicomweb', url: `http://127.0.0.1:${deadPort}/dicom-web` },
      },
    }),
  );
  const ok = await cli(['routes', 'test', 'WEB', '--config', file]);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /^PASS\s+WEB\s+dicomweb/m);
  const bad = await cli(['routes', 'test', 'WEB_404', 'WEB_DOWN', '--config', file]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /^FAIL\s+WEB_404\s.*HTTP 404: check the URL is the DICOMweb base/m);
  assert.match(bad.out, /^FAIL\s+WEB_DOWN\s.*connection failed: check the URL's host and port/m);
});

test('every SCU command has --help naming its options', async () => {
  for (const [name, flag] of [['send', '--study'], ['query', '--level'], ['retrieve', '--move'], ['echo', '--aet'], ['routes', 'routes test']] as const) {
    const r = await cli([name, '--help']);
    assert.equal(r.code, 0);
    assert.ok(r.out.includes(flag), `${name} --help mentions ${flag}`);
  }
});

test('user identity: a server with authentication on rejects a wrong password with the fix, accepts --user with DICOMGATE_DIMSE_PASSWORD', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-scu-auth-'));
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, 'correct horse battery staple\n');
  let authServer: RunningServer | undefined;
  const saved = process.env.DICOMGATE_DIMSE_PASSWORD;
  try {
    const add = await cli(['users', 'add', 'scu', '--role', 'admin', '--password-file', pwFile, '--data', join(dir, 'data')]);
    assert.equal(add.code, 0, add.err);
    const cfg = loadConfig({ env: {}, overrides: { dataDir: join(dir, 'data'), 'dicom.port': 0, 'http.port': 0, host: '127.0.0.1', 'log.level': 'silent' } });
    assert.equal(cfg.auth.enabled, true);
    authServer = await startServer(cfg, silentLogger);
    const peer = `DICOMGATE@127.0.0.1:${authServer.dicomPort}`;
    process.env.DICOMGATE_DIMSE_PASSWORD = 'wrong password here';
    const wrong = await cli(['echo', peer, '--user', 'scu']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /rejected the association .*--user with DICOMGATE_DIMSE_PASSWORD/);
    process.env.DICOMGATE_DIMSE_PASSWORD = 'correct horse battery staple';
    const ok = await cli(['echo', peer, '--user', 'scu']);
    assert.equal(ok.code, 0, ok.err);
    const noToken = await cli(['echo', peer, '--token']);
    assert.equal(noToken.code, 2);
    assert.match(noToken.err, /DICOMGATE_DIMSE_TOKEN/);
  } finally {
    if (saved === undefined) delete process.env.DICOMGATE_DIMSE_PASSWORD;
    else process.env.DICOMGATE_DIMSE_PASSWORD = saved;
    await authServer?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
