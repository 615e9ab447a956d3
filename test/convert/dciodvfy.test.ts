// Every kind of output passes dicom3tools' dciodvfy without errors (warnings are allowed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { makeBmp, makeNifti, makeTiff } from './make-inputs.ts';
import { memoryInput, run } from './helpers.ts';
import type { ConvertOptions } from '../../src/convert/convert.ts';
import type { ConvertInput } from '../../src/convert/inputs.ts';

const hasDciodvfy = spawnSync('dciodvfy', [], { encoding: 'utf8' }).error === undefined;
const W = 21;
const H = 13;
const rgba = new Uint8Array(W * H * 4).map((_, i) => (i * 37) % 256);
const vals = Array.from({ length: W * H * 4 }, (_, i) => i * 0.25 - 30);
const sform = [[-1, 0, 0, 50], [0, 1.2, 0, -20], [0, 0, 2, -60]];

const cases: [string, ConvertInput, ConvertOptions][] = [
  ['PNG gray 8', memoryInput('g.png', encodePng({ width: W, height: H, data: rgba.subarray(0, W * H), depth: 8, channels: 1 })), {}],
  ['PNG RGBA 16', memoryInput('c.png', encodePng({ width: W, height: H, data: new Uint16Array(W * H * 4).fill(999), depth: 16, channels: 4 })), {}],
  ['JPEG baseline', memoryInput('p.jpg', jpeg.encode({ width: W, height: H, data: rgba }, 80).data), {}],
  ['BMP 24', memoryInput('b.bmp', makeBmp(W, H, 24, (x, y) => [x, y, 0])), {}],
  ['TIFF multi-page 8-bit gray', memoryInput('m.tif', makeTiff([0, 1].map(() => ({ width: W, height: H, spp: 1 as const, bits: 8 as const, samples: Array(W * H).fill(3), compression: 5 as const })))), {}],
  ['TIFF multi-page RGB', memoryInput('r.tif', makeTiff([0, 1].map(() => ({ width: W, height: H, spp: 3 as const, bits: 8 as const, samples: Array(W * H * 3).fill(3), compression: 8 as const })))), {}],
  ['TIFF multi-page 16-bit', memoryInput('w.tif', makeTiff([0, 1].map(() => ({ width: W, height: H, spp: 1 as const, bits: 16 as const, samples: Array(W * H).fill(300), tile: 16 })))), {}],
  ['NIfTI → SC multi-frame', memoryInput('v.nii.gz', makeNifti({ dims: [W, H, 4], datatype: 16, values: vals, sform, gzip: true })), {}],
  ['NIfTI → CT', memoryInput('v.nii', makeNifti({ dims: [W, H, 4], datatype: 16, values: vals, sform })), { modality: 'CT' }],
  ['NIfTI-2 → MR', memoryInput('v2.nii', makeNifti({ version: 2, dims: [W, H, 4], datatype: 4, values: vals.map(Math.round), sform })), { modality: 'MR' }],
];

for (const [label, input, options] of cases) {
  test(`dciodvfy: ${label}`, async (t) => {
    if (!hasDciodvfy) return t.skip('dciodvfy not installed');
    const r = await run([input], { ...options, attributes: [] });
    assert.equal(r.errors.length, 0, r.errors.map((e) => e.error.message).join());
    const dir = mkdtempSync(join(tmpdir(), 'conv-vfy-'));
    try {
      // One instance per kind is enough: the slices of a series differ only in position values.
      const inst = r.instances[0];
      const f = join(dir, 'x.dcm');
      writeFileSync(f, Buffer.concat(inst.chunks));
      const out = spawnSync('dciodvfy', [f], { encoding: 'utf8' });
      const text = `${out.stdout}${out.stderr}`;
      const errors = text.split('\n').filter((l) => /^Error/.test(l));
      assert.deepEqual(errors, [], text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
