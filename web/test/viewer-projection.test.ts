import { describe, expect, it } from 'vitest';
import { patientToPixel, sliceIndexAt, sortSlices, type Slice, type Vec3 } from '../src/viewer/geometry.ts';

function slice(z: number, opts: Partial<Slice> = {}): Slice {
  const position: Vec3 = [-100, -50, z];
  return {
    sopInstanceUid: `1.2.${z}`, instanceNumber: 100 - z, rows: 256, columns: 200, frames: 1, position,
    rowDir: [1, 0, 0], colDir: [0, 1, 0], spacing: [0.5, 0.8], bitsAllocated: 16, bitsStored: 12,
    pixelSigned: false, samplesPerPixel: 1, photometric: 'MONOCHROME2', slope: 1, intercept: -1024,
    windowCenter: 40, windowWidth: 400, frameOfReferenceUid: '1.2.3', location: z, ...opts,
  };
}

describe('contour projection onto a slice', () => {
  it('maps patient mm to [column, row] with column spacing along the row direction', () => {
    const s = slice(10);
    // 8 mm along x = 10 columns of 0.8 mm; 5 mm along y = 10 rows of 0.5 mm.
    expect(patientToPixel(s, [-92, -45, 10])).toEqual([10, 10]);
    expect(patientToPixel(s, [-100, -50, 10])).toEqual([0, 0]);
  });

  it('follows a rotated (sagittal) orientation', () => {
    // Rows run along patient y, columns down along -z; the first pixel sits at (0, -50, 100).
    const s = slice(0, { position: [0, -50, 100], rowDir: [0, 1, 0], colDir: [0, 0, -1], spacing: [2, 1] });
    const [c, r] = patientToPixel(s, [0, -40, 90]);
    expect(c).toBeCloseTo(10);
    expect(r).toBeCloseTo(5);
  });

  it('finds the slice whose plane holds a contour point, within half the gap, and orders the stack by position', () => {
    const stack = sortSlices([slice(6), slice(0), slice(3)]);
    expect(stack.map((s) => s.location)).toEqual([0, 3, 6]);
    expect(sliceIndexAt(stack, [0, 0, 3.2])).toBe(1);
    expect(sliceIndexAt(stack, [0, 0, 6])).toBe(2);
    expect(sliceIndexAt(stack, [0, 0, 30])).toBeUndefined();
  });
});
