import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dump } from '../../src/dicom/dump.ts';
import { readPart10 } from '../../src/dicom/part10.ts';
import { fixture } from './fixtures.ts';

test('dump lists every element with tag, VR, value, length and keyword; items indented', () => {
  const text = dump(readPart10(fixture('rtstruct.dcm')));
  assert.match(text, /^\(0008,0060\) CS \[RTSTRUCT\] +#   8, 1 Modality$/m);
  assert.match(text, /^\(3006,0020\) SQ \(Sequence with .* length #=\d+\) +# +(u\/l|\d+), 1 StructureSetROISequence$/m);
  assert.match(text, /^ {2}\(FFFE,E000\) na \(Item #=\d+\)$/m);
  assert.match(text, /^ {4}\(3006,0022\) IS \[\d+\] +# +\d+, 1 ROINumber$/m);
  assert.match(text, /Dicom-Meta-Information-Header \(synthesized/);
});

test('dump truncates long values and never prints pixel data in full', () => {
  const text = dump(readPart10(fixture('CT_small.dcm')), { maxValueLength: 20 });
  const pixel = text.split('\n').find((l) => l.startsWith('(7FE0,0010)'))!;
  assert.ok(pixel.length < 120, pixel);
  assert.match(pixel, /\.\.\. +# 32768, 1 PixelData$/);
  const enc = dump(readPart10(fixture('JPEG2000.dcm')));
  assert.match(enc, /\(7FE0,0010\) OB \(PixelSequence #=2\)/);
  assert.match(enc, /\(FFFE,E000\) pi \(offset table, 0 bytes\)/);
});
