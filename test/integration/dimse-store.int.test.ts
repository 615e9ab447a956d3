// Interop with DCMTK: echoscu and storescu against our SCP; our SCU against storescp.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, open, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScp, type DicomScp } from '../../src/dimse/scp.ts';
import { associate, standardContexts } from '../../src/dimse/scu.ts';
import type { CStoreRequest, StoreSink } from '../../src/dimse/handlers.ts';
import { parsePart10Meta, part10Instance } from '../../src/dimse/part10-source.ts';
import { sendFiles } from '../../src/dimse/send-instances.ts';
import { STATUS } from '../../src/dimse/status.ts';
import { TS } from '../../src/dimse/uids.ts';
import { runDcmtk, startStorescp } from '../helpers/dcmtk.ts';
import { startPduTap } from '../dimse/helpers/pdu-tap.ts';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));
const PYDICOM = join(CORPUS, 'pydicom');
const hasCorpus = existsSync(PYDICOM);

/** Files covering transfer syntaxes and RT objects (rtdose_rle is the RLE RT Dose that broke dcmjs-dimse). */
const SAMPLE = [
  'CT_small.dcm',
  'MR_small_implicit.dcm',
  'MR_small_bigendian.dcm',
  'MR_small_RLE.dcm',
  'JPEG2000.dcm',
  'image_dfl.dcm',
  'rtdose.dcm',
  'rtdose_rle.dcm',
  'rtplan.dcm',
  'SC_rgb_jpeg_dcmtk.dcm',
  'test-SR.dcm',
  '../synthetic-rt/dicom/P01/ST01/RTSTRUCT/RS_001.dcm',
].map((f) => join(PYDICOM, f));

interface Received {
  rq: CStoreRequest;
  path: string;
}

/** A durable file sink: each fragment is appended as it arrives, fsync before Success. */
function fileSinks(dir: string, received: Received[]): (rq: CStoreRequest) => Promise<StoreSink> {
  let n = 0;
  return async (rq) => {
    const path = join(dir, `${++n}.dset`);
    const fh = await open(path, 'w');
    return {
      write: async (c) => {
        await fh.write(c);
      },
      finish: async () => {
        await fh.sync();
        await fh.close();
        received.push({ rq, path });
        return STATUS.Success;
      },
      abort: () => {
        void fh.close().catch(() => undefined);
      },
    };
  };
}

function datasetBytes(file: string): { ts: string; bytes: Buffer; sopInstanceUid: string } {
  const buf = readFileSync(file);
  const meta = parsePart10Meta(buf, 'file');
  return { ts: meta.transferSyntaxUid, bytes: buf.subarray(meta.datasetOffset), sopInstanceUid: meta.sopInstanceUid };
}

let scp: DicomScp;
let dir: string;
const received: Received[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dimse-store-'));
  scp = await startScp({ aeTitles: ['DICOMGATE'], handlers: { onCStore: fileSinks(dir, received) }, host: '127.0.0.1' });
});
after(async () => {
  await scp.close();
  await rm(dir, { recursive: true, force: true });
});

test('echoscu -> our SCP', async () => {
  const r = await runDcmtk('echoscu', ['-aec', 'DICOMGATE', '127.0.0.1', String(scp.port)]);
  assert.equal(r.code, 0, r.stderr);
});

test('echoscu to a wrong called AE is rejected', async () => {
  const r = await runDcmtk('echoscu', ['-aec', 'NOTUS', '127.0.0.1', String(scp.port)]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /Called AE Title Not Recognized/i);
});

/** storescu flag that proposes a compressed file's own transfer syntax (it never does by default). */
const PROPOSE_FLAG: Record<string, string> = {
  '1.2.840.10008.1.2.5': '-xr',
  '1.2.840.10008.1.2.4.90': '-xv',
  '1.2.840.10008.1.2.4.91': '-xw',
  '1.2.840.10008.1.2.4.50': '-xy',
  '1.2.840.10008.1.2.4.51': '-xx',
  '1.2.840.10008.1.2.4.57': '-xs',
  '1.2.840.10008.1.2.4.70': '-xs',
  '1.2.840.10008.1.2.1.99': '-xd',
};

/** Uncompressed files DCMTK can re-encode in any uncompressed syntax (-xi, -xe, -xb). */
const UNCOMPRESSED = !hasCorpus ? [] : SAMPLE.filter((f) => !isCompressedOrDeflated(datasetBytes(f).ts));

for (const [flag, files, expectTs] of [
  ['-xi', UNCOMPRESSED, TS.ImplicitVRLittleEndian],
  ['-xe', UNCOMPRESSED, undefined],
  ['-xb', UNCOMPRESSED, undefined],
  // -R proposes only the files' own syntaxes, compressed ones included; storescu merges contexts of
  // one SOP class across files, so each file goes in its own association. DCMTK cannot parse
  // rtdose_rle.dcm's dataset, so that one is left to our SCU's test below.
  ['-R', SAMPLE.filter((f) => !f.endsWith('rtdose_rle.dcm')), undefined],
] as const) {
  test(`storescu ${flag || '(default)'} through a PDU tap: every instance stored with exactly the bytes on the wire`, { skip: hasCorpus ? false : 'corpus not present' }, async () => {
    received.length = 0;
    const tap = await startPduTap(scp.port);
    try {
      for (const batch of flag === '-R' ? files.map((f) => [f]) : [files]) {
        const own = flag === '-R' ? (PROPOSE_FLAG[datasetBytes(batch[0]).ts] ?? '-R') : flag;
        const r = await runDcmtk('storescu', [flag, own, '-aec', 'DICOMGATE', '127.0.0.1', String(tap.port), ...batch]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
      }
    } finally {
      await tap.close();
    }
    assert.equal(received.length, files.length);
    assert.equal(tap.datasets.length, files.length);
    // (Not matched by meta SOP Instance UID: some pydicom files' meta disagrees with their dataset.)
    for (const [i, got] of received.entries()) {
      // C-STOREs are sequential on one association, so the i-th dataset on the wire is the i-th stored.
      assert.ok(readFileSync(got.path).equals(tap.datasets[i]), `bytes differ for ${got.rq.affectedSopInstanceUid}`);
      if (expectTs) assert.equal(got.rq.transferSyntaxUid, expectTs);
    }
  });
}

function isCompressedOrDeflated(ts: string): boolean {
  return ![TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian].includes(ts as never);
}

function dicomFilesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const b = readFileSync(p).subarray(0, 132);
        if (b.length === 132 && b.toString('latin1', 128, 132) === 'DICM') out.push(p);
      }
    }
  };
  walk(root);
  return out;
}

test('storescu +sd +r folder mode of a corpus study: every instance stored with the bytes on the wire', { skip: hasCorpus ? false : 'corpus not present' }, async () => {
  const study = join(CORPUS, 'synthetic-rt', 'dicom', 'P01', 'ST01');
  received.length = 0;
  const files = dicomFilesUnder(study);
  const tap = await startPduTap(scp.port);
  try {
    const r = await runDcmtk('storescu', ['-aec', 'DICOMGATE', '+sd', '+r', '127.0.0.1', String(tap.port), study], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  } finally {
    await tap.close();
  }
  assert.equal(received.length, files.length);
  const sops = new Set(files.map((f) => datasetBytes(f).sopInstanceUid));
  for (const [i, got] of received.entries()) {
    assert.ok(sops.delete(got.rq.affectedSopInstanceUid), 'each instance once');
    assert.ok(readFileSync(got.path).equals(tap.datasets[i]), `bytes differ for ${got.rq.affectedSopInstanceUid}`);
  }
});

test('our SCU -> DCMTK storescp: files arrive byte-identical', { skip: hasCorpus ? false : 'corpus not present' }, async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'storescp-'));
  // +B: storescp writes each dataset exactly as received, so its files show what our SCU sent.
  const storescp = await startStorescp(outDir, { extraArgs: ['+B'] });
  try {
    // storescp names files by SOP Instance UID: leave out the namesakes of other sample files.
    const files = SAMPLE.filter((f) => !/MR_small_(implicit|bigendian)\.dcm$|\/rtdose\.dcm$/.test(f));
    const instances = await Promise.all(files.map((f) => part10Instance(f)));
    const scu = await associate({
      host: '127.0.0.1',
      port: storescp.port,
      callingAe: 'DICOMGATE',
      calledAe: 'STORESCP',
      contexts: standardContexts(instances.map((i) => ({ sopClassUid: i.sopClassUid, transferSyntaxUid: i.transferSyntaxUid }))),
    });
    assert.equal(await scu.echo(), STATUS.Success);
    for (const inst of instances) {
      const r = await scu.store(inst);
      assert.equal(r.status, STATUS.Success, `${inst.sopInstanceUid}: ${r.status}`);
    }
    await scu.release();
    const written = await Promise.all((await readdir(outDir)).map((name) => datasetBytes(join(outDir, name))));
    assert.equal(written.length, files.length, storescp.output());
    for (const f of files) {
      const src = datasetBytes(f);
      // An odd-length deflated bitstream travels with the trailing NUL PS3.5 A.5 prescribes.
      const expected = src.bytes.length % 2 === 1 ? Buffer.concat([src.bytes, Buffer.alloc(1)]) : src.bytes;
      assert.ok(written.some((w) => w.ts === src.ts && w.bytes.equals(expected)), `bytes differ for ${f}`);
    }
  } finally {
    await storescp.stop();
    await rm(outDir, { recursive: true, force: true });
  }
});

test('sendFiles to storescp: unreadable inputs reported, the rest stored', { skip: hasCorpus ? false : 'corpus not present' }, async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'storescp-send-'));
  const storescp = await startStorescp(outDir);
  try {
    const inputs = [SAMPLE[0], join(PYDICOM, 'README.txt'), join(PYDICOM, 'does-not-exist.dcm'), SAMPLE[5]];
    const results = await sendFiles({ host: '127.0.0.1', port: storescp.port, callingAe: 'DICOMGATE', calledAe: 'STORESCP' }, inputs);
    assert.deepEqual(
      results.map((r) => [r.index, r.status, r.error]),
      [
        [0, STATUS.Success, undefined],
        [1, undefined, 'DICOM_PARSE'],
        [2, undefined, 'IMPORT_UNREADABLE'],
        [3, STATUS.Success, undefined],
      ],
    );
    assert.equal((await readdir(outDir)).length, 2);
  } finally {
    await storescp.stop();
    await rm(outDir, { recursive: true, force: true });
  }
});
