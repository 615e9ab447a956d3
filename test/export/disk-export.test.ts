// Disk export: templates, sanitising, collisions, idempotence, atomicity (no temp files left).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/core/errors.ts';
import { Dataset } from '../../src/dicom/dataset.ts';
import { newDicomFile, writePart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { DEFAULT_TEMPLATE, DiskExporter } from '../../src/export/disk-exporter.ts';
import { compileTemplate, renderTemplate } from '../../src/export/path-template.ts';
import { sanitizeComponent, truncateUtf8 } from '../../src/export/sanitize-path.ts';

const root = mkdtempSync(join(tmpdir(), 'dg-export-'));
after(() => rmSync(root, { recursive: true, force: true }));

function instance(over: Record<string, string> = {}): Buffer {
  const ds = new Dataset();
  const v: Record<string, string> = {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
    SOPInstanceUID: '1.2.3.4.1',
    StudyInstanceUID: '1.2.3',
    SeriesInstanceUID: '1.2.3.4',
    PatientID: 'PAT01',
    StudyDate: '20240131',
    StudyDescription: 'CT THORAX',
    SeriesNumber: '2',
    Modality: 'CT',
    InstanceNumber: '7',
    ...over,
  };
  const vrs: Record<string, 'UI' | 'LO' | 'DA' | 'IS' | 'CS'> = {
    SOPClassUID: 'UI', SOPInstanceUID: 'UI', StudyInstanceUID: 'UI', SeriesInstanceUID: 'UI', PatientID: 'LO',
    StudyDate: 'DA', StudyDescription: 'LO', SeriesNumber: 'IS', Modality: 'CS', InstanceNumber: 'IS',
  };
  for (const [k, val] of Object.entries(v)) if (val !== '') ds.setString((T as unknown as Record<string, number>)[k]!, vrs[k]!, val);
  return Buffer.concat(writePart10(newDicomFile(ds, '1.2.840.10008.1.2.1')));
}

const listAll = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name).slice(dir.length + 1))
    .sort();

describe('path templates', () => {
  it('renders the default template with padding', () => {
    const exp = new DiskExporter({ root, template: DEFAULT_TEMPLATE });
    assert.equal(exp.pathFor(instance()).path, 'PAT01/20240131_CT THORAX/002_CT/0007.dcm');
  });

  it('accepts tags, keeps non-integers unpadded, fills missing attributes', () => {
    const t = compileTemplate('{(0010,0020)}/{00200011:04}-{SeriesDescription}/{InstanceNumber:03}.dcm');
    const ds = new Dataset();
    ds.setString(T.PatientID, 'LO', 'P');
    ds.setString(T.SeriesNumber, 'IS', 'X1');
    assert.equal(renderTemplate(t, ds), 'P/X1-unknown/unknown.dcm');
    assert.equal(renderTemplate(t, ds, { missing: 'NA' }), 'P/X1-NA/NA.dcm');
  });

  it('rejects bad templates with a position', () => {
    for (const bad of ['{Nope}/x', '{PatientID', 'a}/b', '/abs/{PatientID}', 'a//b', '{PatientID:3}', '']) {
      assert.throws(() => compileTemplate(bad), (e) => isAppError(e, 'EXPORT_TEMPLATE_INVALID'), bad);
    }
  });
});

describe('sanitising', () => {
  it('removes traversal, separators, control and Windows-forbidden characters', () => {
    assert.equal(sanitizeComponent('..'), '_');
    assert.equal(sanitizeComponent('.'), '_');
    assert.equal(sanitizeComponent(''), '_');
    assert.equal(sanitizeComponent('a/b\\c'), 'a_b_c');
    assert.equal(sanitizeComponent('x:y*z?"<>|'), 'x_y_z_____');
    assert.equal(sanitizeComponent('tab\there\u0000\u007f'), 'tab_here__');
    assert.equal(sanitizeComponent('trailing. '), 'trailing__');
  });

  it('prefixes reserved Windows device names, with or without extension', () => {
    for (const n of ['CON', 'con', 'PRN.dcm', 'AUX', 'NUL.txt', 'COM1', 'lpt9.dcm']) assert.equal(sanitizeComponent(n), `_${n}`);
    assert.equal(sanitizeComponent('CONTRAST'), 'CONTRAST');
  });

  it('bounds length in UTF-8 bytes on code point boundaries, keeping the extension', () => {
    const long = 'é'.repeat(200) + '.dcm';
    const s = sanitizeComponent(long, { maxComponentBytes: 100 });
    assert.ok(Buffer.byteLength(s) <= 100);
    assert.ok(s.endsWith('.dcm'));
    assert.equal(truncateUtf8('😀😀😀', 7), '😀');
    assert.equal(sanitizeComponent('e\u0301'), '\u00e9', 'NFC');
  });

  it('a hostile attribute value cannot leave the export root', () => {
    const exp = new DiskExporter({ root, template: DEFAULT_TEMPLATE });
    const p = exp.pathFor(instance({ PatientID: '../../etc', StudyDescription: '..', Modality: 'CON' })).path;
    assert.equal(p, '.._.._etc/20240131___/002_CON/0007.dcm');
    assert.ok(p.split('/').every((c) => c !== '..' && c !== '.'));
  });
});

describe('DiskExporter', () => {
  it('writes atomically, idempotently, and suffixes a different instance at the same path', async () => {
    const dir = mkdtempSync(join(root, 'x-'));
    const exp = new DiskExporter({ root: dir, template: DEFAULT_TEMPLATE });
    const a = instance();
    const r1 = await exp.exportInstance(a);
    assert.deepEqual(r1, { status: 'written', path: 'PAT01/20240131_CT THORAX/002_CT/0007.dcm' });
    assert.deepEqual(await exp.exportInstance(a), { status: 'unchanged', path: r1.path });
    const other = instance({ SOPInstanceUID: '1.2.3.4.2' });
    assert.deepEqual(await exp.exportInstance(other), { status: 'written', path: 'PAT01/20240131_CT THORAX/002_CT/0007_1.dcm' });
    assert.deepEqual(await exp.exportInstance(other), { status: 'unchanged', path: 'PAT01/20240131_CT THORAX/002_CT/0007_1.dcm' });
    const changed = instance({ SOPInstanceUID: '1.2.3.4.2', StudyDescription: 'CT THORAX' , SeriesNumber: '02' });
    assert.equal((await exp.exportInstance(changed)).status, 'replaced');
    assert.deepEqual(readFileSync(join(dir, 'PAT01/20240131_CT THORAX/002_CT/0007_1.dcm')), changed);
    assert.deepEqual(listAll(dir), ['PAT01/20240131_CT THORAX/002_CT/0007.dcm', 'PAT01/20240131_CT THORAX/002_CT/0007_1.dcm']);
  });

  it('never overwrites a foreign (non-DICOM) file at the target', async () => {
    const dir = mkdtempSync(join(root, 'y-'));
    mkdirSync(join(dir, 'PAT01/20240131_CT THORAX/002_CT'), { recursive: true });
    writeFileSync(join(dir, 'PAT01/20240131_CT THORAX/002_CT/0007.dcm'), 'not dicom');
    const exp = new DiskExporter({ root: dir, template: DEFAULT_TEMPLATE });
    assert.equal((await exp.exportInstance(instance())).path, 'PAT01/20240131_CT THORAX/002_CT/0007_1.dcm');
    assert.equal(readFileSync(join(dir, 'PAT01/20240131_CT THORAX/002_CT/0007.dcm'), 'utf8'), 'not dicom');
  });

  it('concurrent exports: 30 instances racing for one path, each twice -> 30 files, no temp left', async () => {
    const dir = mkdtempSync(join(root, 'z-'));
    const exp = new DiskExporter({ root: dir, template: '{PatientID}/{Modality}.dcm' });
    const inst = Array.from({ length: 30 }, (_, i) => instance({ SOPInstanceUID: `1.2.3.9.${i}` }));
    const results = await Promise.all([...inst, ...inst].map((b) => exp.exportInstance(b)));
    const files = listAll(dir);
    assert.equal(files.length, 30);
    assert.equal(new Set(results.map((r) => r.path)).size, 30);
    assert.equal(results.filter((r) => r.status === 'written').length, 30);
    assert.ok(files.every((f) => !f.includes('.tmp')));
  });

  it('a missing SOP Instance UID is a coded error', async () => {
    const exp = new DiskExporter({ root, template: DEFAULT_TEMPLATE });
    await assert.rejects(exp.exportInstance(instance({ SOPInstanceUID: '' })), (e) => isAppError(e, 'DICOM_MISSING_UID'));
  });
});
