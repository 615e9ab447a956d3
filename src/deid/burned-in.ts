// Burned-in identifying text in pixel data cannot be found by reading attributes. Objects that say
// they carry it (BurnedInAnnotation = YES, PS3.3 C.7.6.1.1.6) or whose kind usually does (secondary
// captures, ultrasound, "other" screenshots) go to quarantine unless the project accepts them or gives
// pixel regions to blank for that device (Clean Pixel Data option, PS3.15 E.3.1).
import { T } from '../dicom/tag.ts';
import type { Dataset } from '../dicom/dataset.ts';
import type { QuarantineReason } from './outcome.ts';
import type { PixelRegionRule, Project } from './project.ts';

const BURNED_IN_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture Image
  '1.2.840.10008.5.1.4.1.1.7.1', // Multi-frame Single Bit SC
  '1.2.840.10008.5.1.4.1.1.7.2', // Multi-frame Grayscale Byte SC
  '1.2.840.10008.5.1.4.1.1.7.3', // Multi-frame Grayscale Word SC
  '1.2.840.10008.5.1.4.1.1.7.4', // Multi-frame True Color SC
  '1.2.840.10008.5.1.4.1.1.6.1', // US Image
  '1.2.840.10008.5.1.4.1.1.6.2', // Enhanced US Volume
  '1.2.840.10008.5.1.4.1.1.3.1', // US Multi-frame Image
]);
const BURNED_IN_MODALITIES = new Set(['SC', 'US', 'OT']);

export type BurnedInVerdict =
  | { readonly kind: 'clear' }
  | { readonly kind: 'blank'; readonly rule: PixelRegionRule }
  | { readonly kind: 'quarantine'; readonly reason: QuarantineReason; readonly detail: string };

export function burnedInVerdict(ds: Dataset, project: Project): BurnedInVerdict {
  const flagged = ds.string(T.BurnedInAnnotation)?.toUpperCase() === 'YES';
  const sopClass = ds.string(T.SOPClassUID) ?? '';
  const modality = ds.string(T.Modality)?.toUpperCase() ?? '';
  const likely = BURNED_IN_SOP_CLASSES.has(sopClass) || BURNED_IN_MODALITIES.has(modality);
  if (!flagged && !likely) return { kind: 'clear' };
  if (project.burnedIn.accept) return { kind: 'clear' };
  const rule = matchingRule(ds, project.burnedIn.regions);
  if (rule && project.options.cleanPixelData) return { kind: 'blank', rule };
  return flagged
    ? { kind: 'quarantine', reason: 'burned-in-annotation', detail: `BurnedInAnnotation=YES, SOP class ${sopClass}` }
    : { kind: 'quarantine', reason: 'burned-in-modality', detail: `modality ${modality === '' ? '?' : modality}, SOP class ${sopClass} may carry burned-in text` };
}

function matchingRule(ds: Dataset, rules: readonly PixelRegionRule[]): PixelRegionRule | undefined {
  const manufacturer = ds.string(T.Manufacturer) ?? '';
  const model = ds.string(T.ManufacturerModelName) ?? '';
  const rows = ds.number(T.Rows);
  const columns = ds.number(T.Columns);
  return rules.find((r) => r.manufacturer === manufacturer && r.model === model && r.rows === rows && r.columns === columns);
}

/**
 * Blanks (zeroes) the rule's rectangles in every frame of native (uncompressed) pixel data.
 * Returns false when the pixel data is encapsulated or its layout is not understood.
 */
export function blankRegions(ds: Dataset, rule: PixelRegionRule): boolean {
  const pixels = ds.bytes(T.PixelData);
  const rows = ds.number(T.Rows);
  const cols = ds.number(T.Columns);
  const bits = ds.number(T.BitsAllocated);
  const samples = ds.number(T.SamplesPerPixel) ?? 1;
  const planar = ds.number(T.PlanarConfiguration) ?? 0;
  const frames = Number(ds.string(T.NumberOfFrames) ?? '1') || 1;
  if (!pixels || rows === undefined || cols === undefined || (bits !== 8 && bits !== 16)) return false;
  const bpp = bits / 8;
  const frameBytes = rows * cols * samples * bpp;
  if (pixels.length < frameBytes * frames) return false;
  const out = new Uint8Array(pixels);
  for (let f = 0; f < frames; f++) {
    for (const [x, y, w, h] of rule.regions) {
      for (let r = Math.max(0, y); r < Math.min(rows, y + h); r++) {
        const c0 = Math.max(0, x);
        const c1 = Math.min(cols, x + w);
        if (c1 <= c0) continue;
        if (planar === 1 && samples > 1) {
          for (let s = 0; s < samples; s++) {
            const base = f * frameBytes + s * rows * cols * bpp + (r * cols) * bpp;
            out.fill(0, base + c0 * bpp, base + c1 * bpp);
          }
        } else {
          const base = f * frameBytes + r * cols * samples * bpp;
          out.fill(0, base + c0 * samples * bpp, base + c1 * samples * bpp);
        }
      }
    }
  }
  ds.setBytes(T.PixelData, ds.vr(T.PixelData) ?? 'OW', out);
  return true;
}
