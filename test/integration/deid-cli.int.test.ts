// `dicomgate deid` end to end as a child process: folders and ZIPs in, a pseudonymized tree out, the
// mapping CSV on request, and --dry-run writing nothing (not even keys).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listFiles, SYNTHETIC, syntheticPresent } from '../deid/corpus-helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/dicomgate', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dicomgate-deid-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const hasZip = spawnSync('zip', ['-v'], { stdio: 'ignore' }).status === 0;

function dicomgate(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('dicomgate deid', { skip: !syntheticPresent() ? 'corpus not present' : !hasZip ? 'zip not installed' : false }, () => {
  const study1 = join(SYNTHETIC, 'dicom', 'P01', 'ST01');
  const study2 = join(SYNTHETIC, 'dicom', 'P01', 'ST02');
  const data = join(scratch, 'data');

  it('de-identifies a folder and a ZIP into one tree and writes the mapping CSV', () => {
    const zip = join(scratch, 'st02.zip');
    assert.equal(spawnSync('zip', ['-qr', zip, '.'], { cwd: study2 }).status, 0);
    const out = join(scratch, 'out');
    const csv = join(scratch, 'keys.csv');
    const r = dicomgate('deid', study1, zip, out, '--project', 'longitudinal', '--data', data, '--mapping-csv', csv, '--workers', '1');
    assert.equal(r.status, 0, r.stderr);
    const inputs = listFiles(study1).length + listFiles(study2).length;
    assert.match(r.stderr, new RegExp(`^${inputs} de-identified, 0 quarantined, 0 rejected`, 'm'));
    const outputs = listFiles(out);
    assert.equal(outputs.length, inputs);
    // One patient: one pseudonym folder, two studies below it.
    assert.deepEqual([...new Set(outputs.map((f) => f.slice(out.length + 1).split('/')[0]))], ['ANON000001']);
    assert.equal(new Set(outputs.map((f) => f.slice(out.length + 1).split('/')[1])).size, 2);
    const lines = readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    assert.equal(lines.length, 2);
    assert.match(lines[1], /,ANON000001,ANON000001\^,-\d+$/);
  });

  it('--dry-run prints the per-attribute account and writes nothing', () => {
    const out = join(scratch, 'dry');
    const dryData = join(scratch, 'dry-data');
    const r = dicomgate('deid', study1, out, '--project', 'basic', '--data', dryData, '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\(0010,1010\)\s+PatientAge\s+removed\s+E\.1-1 X\s+\d+\/\d+$/m);
    assert.match(r.stdout, /^\(0020,000D\)\s+StudyInstanceUID\s+uid-replaced/m);
    assert.equal(existsSync(out), false);
    const keys = dicomgate('keys', 'export', join(scratch, 'dry.csv'), '--project', 'basic', '--data', dryData);
    assert.equal(keys.status, 0, keys.stderr);
    assert.equal(readFileSync(join(scratch, 'dry.csv'), 'utf8').trim().split(/\r?\n/).length, 1);
  });

  it('refuses an unknown project with the list of known ones', () => {
    const r = dicomgate('deid', study1, join(scratch, 'x'), '--project', 'nope', '--data', data);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Unknown de-identification project: no project "nope" \(known: basic, longitudinal\)/);
  });
});
