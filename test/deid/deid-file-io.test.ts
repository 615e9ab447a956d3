// The `deid` command's file I/O: pooled input buffers and chunked output writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { InputBuffers } from '../../src/cli/commands/_deid-input-buffers.ts';
import { deidFile } from '../../src/cli/commands/_deid-file.ts';
import { deidInputs } from '../../src/cli/commands/_deid-inputs.ts';
import { newDicomFile, readPart10, writePart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { resolveProject } from '../../src/deid/project.ts';
import { CT, FakePseudonymizer, object } from './helpers.ts';
import { AppError, isAppError } from '../../src/core/errors.ts';
import type { PseudonymRequest } from '../../src/deid/pseudonymizer.ts';

describe('InputBuffers', () => {
  it('returns exactly the file, also from a reused larger buffer with older bytes in it', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dg-inbuf-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const big = Buffer.alloc(200_000, 0xaa);
    const small = Buffer.from('small file');
    writeFileSync(join(dir, 'big'), big);
    writeFileSync(join(dir, 'small'), small);
    writeFileSync(join(dir, 'empty'), Buffer.alloc(0));
    const pool = new InputBuffers();
    const a = await pool.read(join(dir, 'big'));
    assert.deepEqual(a.data, big);
    pool.release(a.buffer);
    const b = await pool.read(join(dir, 'small'));
    assert.equal(b.buffer, a.buffer, 'the released buffer is reused');
    assert.deepEqual(b.data, small);
    const c = await pool.read(join(dir, 'empty'));
    assert.notEqual(c.buffer, a.buffer, 'a buffer in use is never handed out twice');
    assert.equal(c.data.length, 0);
    await assert.rejects(pool.read(join(dir, 'missing')), { code: 'ENOENT' });
  });

  it('keeps at most 64 MB in free buffers, whatever sizes pass through', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dg-inbuf-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pool = new InputBuffers();
    // Growing sizes: no free buffer fits the next file, so each read allocates and each release adds one.
    const held = [];
    for (let i = 1; i <= 10; i++) {
      const p = join(dir, `f${i}`);
      writeFileSync(p, Buffer.alloc(i * 4 * 1024 * 1024, i));
      const r = await pool.read(p);
      assert.equal(r.data[r.data.length - 1], i);
      held.push(r.buffer);
    }
    for (const b of held) pool.release(b);
    assert.ok(pool.freeBytes <= 64 * 1024 * 1024, String(pool.freeBytes));
    assert.ok(pool.freeBytes >= 36 * 1024 * 1024, 'the buffers of up to 16 MB are kept (4+8+12+16 MB)');
  });
});

describe('deidInputs', () => {
  it('walks folders in name order, recursing into sub-folders and following links to files and folders', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dg-deidinputs-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const root = join(dir, 'in');
    mkdirSync(join(root, 'b-sub'), { recursive: true });
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(root, 'c'), 'c');
    writeFileSync(join(root, 'a'), 'a');
    writeFileSync(join(root, 'b-sub', 'x'), 'x');
    writeFileSync(join(dir, 'elsewhere', 'y'), 'y');
    symlinkSync(join(root, 'a'), join(root, 'd-link'));
    symlinkSync(join(dir, 'elsewhere'), join(root, 'e-dirlink'));
    const labels: string[] = [];
    for await (const input of deidInputs([root])) labels.push(relative(root, input.label));
    assert.deepEqual(labels, ['a', join('b-sub', 'x'), 'c', 'd-link', join('e-dirlink', 'y')]);
  });
});

describe('deidFile', () => {
  it('writes byte-identical output for many files in flight (pooled buffers never shared)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dg-deidfile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const inputs: string[] = [];
    for (let i = 0; i < 24; i++) {
      const d = object(CT, [T.Rows, 'US', '64'], [T.Columns, 'US', '64'], [T.InstanceNumber, 'IS', String(i + 1)]);
      d.setString(T.SOPInstanceUID, 'UI', `1.2.3.4.1.${i + 1}`);
      d.setBytes(0x7fe00010, 'OW', Buffer.alloc(64 * 64 * 2 + i * 2, i)); // sizes differ: buffers get reused across sizes
      const p = join(dir, `in-${i}.dcm`);
      writeFileSync(p, Buffer.concat(writePart10(newDicomFile(d, '1.2.840.10008.1.2.1'))));
      inputs.push(p);
    }
    const job = { project: resolveProject('basic'), pseudonymizer: new FakePseudonymizer(), outDir: join(dir, 'out'), dryRun: false };
    const results = await Promise.all(inputs.map((path) => deidFile({ path }, job)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.kind, 'deidentified');
      if (r.kind !== 'deidentified' || r.output === undefined) continue;
      const out = readPart10(readFileSync(r.output)).dataset;
      assert.equal(out.string(T.InstanceNumber), String(i + 1));
      assert.deepEqual(out.bytes(0x7fe00010), Buffer.alloc(64 * 64 * 2 + i * 2, i));
      assert.equal(out.string(T.PatientID), 'P1');
    }
    const series = join(dir, 'out', 'P1');
    assert.equal(readdirSync(series).length, 1);
  });

  it('renames an output into place only once its mappings are durable, and not at all if their flush fails', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dg-deidfile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const d = object(CT, [T.Rows, 'US', '8'], [T.Columns, 'US', '8']);
    d.setBytes(0x7fe00010, 'OW', Buffer.alloc(8 * 8 * 2, 3));
    const input = join(dir, 'in.dcm');
    writeFileSync(input, Buffer.concat(writePart10(newDicomFile(d, '1.2.840.10008.1.2.1'))));
    const outDir = join(dir, 'out');
    const listing = (): string[] => (existsSync(outDir) ? (readdirSync(outDir, { recursive: true }) as string[]) : []).filter((n) => n.endsWith('.dcm') || n.endsWith('.tmp'));
    for (const fails of [false, true]) {
      rmSync(outDir, { recursive: true, force: true });
      let settle: (ok: boolean) => void = () => undefined;
      const durable = new Promise<void>((resolve, reject) => (settle = (ok) => (ok ? resolve() : reject(new AppError('KEYS_UNAVAILABLE', { detail: 'flush failed' })))));
      durable.catch(() => undefined);
      const fake = new FakePseudonymizer();
      const pseudonymizer = { resolve: async (req: PseudonymRequest) => ({ ...(await fake.resolve(req)), durable }) };
      const running = deidFile({ path: input }, { project: resolveProject('basic'), pseudonymizer, outDir, dryRun: false });
      // Let the write finish: only the temporary file may exist while the flush is outstanding.
      for (let i = 0; i < 50 && !listing().some((n) => n.endsWith('.tmp')); i++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(listing().filter((n) => n.endsWith('.dcm')), [], 'nothing under its final name before the flush');
      assert.equal(listing().length, 1);
      settle(!fails);
      if (fails) {
        await assert.rejects(running, (e) => isAppError(e, 'KEYS_UNAVAILABLE'));
        assert.deepEqual(listing(), [], 'the temporary file is removed');
      } else {
        const r = await running;
        assert.equal(r.kind, 'deidentified');
        assert.deepEqual(listing().map((n) => n.endsWith('.dcm')), [true]);
      }
    }
  });

  it('leaves one whole file when two inputs in flight share a SOP Instance UID', async (t) => {
    // One instance in two transfer syntaxes (the pydicom corpus has such pairs) ends up at one output path.
    const dir = mkdtempSync(join(tmpdir(), 'dg-deidfile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const paths = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1'].map((ts, i) => {
      const d = object(CT, [T.Rows, 'US', '256'], [T.Columns, 'US', '256']);
      d.setBytes(0x7fe00010, 'OW', Buffer.alloc(256 * 256 * 2 * (i + 1), 7));
      const p = join(dir, `in-${i}.dcm`);
      writeFileSync(p, Buffer.concat(writePart10(newDicomFile(d, ts))));
      return p;
    });
    const job = { project: resolveProject('basic'), pseudonymizer: new FakePseudonymizer(), outDir: join(dir, 'out'), dryRun: false };
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(paths.map((path) => deidFile({ path }, job)));
      const outputs = new Set(results.map((r) => (r.kind === 'deidentified' ? r.output : undefined)));
      assert.equal(outputs.size, 1);
      const [output] = outputs;
      assert.ok(output !== undefined);
      const pixels = readPart10(readFileSync(output)).dataset.bytes(0x7fe00010)?.length;
      assert.ok(pixels === 256 * 256 * 2 || pixels === 256 * 256 * 4, String(pixels));
      assert.deepEqual(readdirSync(join(output, '..')).filter((n) => n.endsWith('.tmp')), []);
    }
  });
});
