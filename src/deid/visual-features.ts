// Clean Recognizable Visual Features Option (PS3.15 E.3.2): the pixel data must not let a viewer
// recognise the patient, e.g. a face in a photograph or in a surface rendering of a head CT/MR. dicomgate
// cannot remove faces from pixels (no defacing), so with the option requested an image that may show a face
// is quarantined instead of passed on, and the option's code (113102) is recorded only on objects judged not
// to show one. Without the option nothing here applies (the basic profile does not look at pixels for faces).
//
// "May show a face", failing closed:
// - Recognizable Visual Features (0028,0302) = YES; an explicit NO is trusted (PS3.3 C.7.6.1.1.7);
// - visible-light photography and video (VL Photographic, Video Photographic; modality XC, VL) and objects
//   of unknown content (secondary captures, modality SC/OT);
// - CT, MR, PET and NM volumes of the head or neck (Body Part Examined, PS3.16 Annex L terms), of the whole
//   body, or with no Body Part Examined at all: a 3D rendering of the skin surface shows the face.
// Objects without pixel data (structure sets, plans, SR) and other modalities (projection X-ray, dose grids,
// ultrasound, which burned-in.ts already handles) are not treated as showing a face.
import { T } from '../dicom/tag.ts';
import type { Dataset } from '../dicom/dataset.ts';
import type { Project } from './project.ts';

const PHOTO_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.77.1.4', // VL Photographic Image
  '1.2.840.10008.5.1.4.1.1.77.1.4.1', // Video Photographic Image
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture Image (any content)
  '1.2.840.10008.5.1.4.1.1.7.4', // Multi-frame True Color Secondary Capture
]);
const PHOTO_MODALITIES = new Set(['XC', 'VL', 'SC', 'OT']);
const VOLUME_MODALITIES = new Set(['CT', 'MR', 'PT', 'NM']);

/** Body Part Examined values (normalised: upper case, letters only) whose volume may include the face. */
const FACE_BODY_PARTS = new Set([
  'HEAD', 'HEADNECK', 'BRAIN', 'SKULL', 'FACE', 'NECK', 'CSPINE', 'WHOLEBODY', 'EYE', 'ORBIT', 'NOSE',
  'SINUS', 'PARANASALSINUS', 'JAW', 'MANDIBLE', 'MAXILLA', 'TMJ', 'MOUTH', 'EAR', 'IAC', 'PAROTID',
  'NASOPHARYNX', 'OROPHARYNX', 'PHARYNX', 'LARYNX', 'THYROID', 'SELLA', 'PITUITARY',
]);
const FACE_WORDS = /HEAD|BRAIN|SKULL|FACE|NECK|WHOLE/;

const PIXEL_TAGS = [T.PixelData, T.FloatPixelData, T.DoubleFloatPixelData];

export type VisualFeaturesVerdict = { readonly kind: 'clear' } | { readonly kind: 'quarantine'; readonly detail: string };

export function visualFeaturesVerdict(ds: Dataset, project: Project): VisualFeaturesVerdict {
  if (!project.options.cleanRecognizableVisualFeatures) return { kind: 'clear' };
  if (!PIXEL_TAGS.some((t) => ds.has(t))) return { kind: 'clear' };
  const declared = ds.string(T.RecognizableVisualFeatures)?.trim().toUpperCase();
  if (declared === 'NO') return { kind: 'clear' };
  if (declared === 'YES') return quarantine('RecognizableVisualFeatures=YES');
  const sopClass = ds.string(T.SOPClassUID) ?? '';
  const modality = ds.string(T.Modality)?.trim().toUpperCase() ?? '';
  if (PHOTO_SOP_CLASSES.has(sopClass) || PHOTO_MODALITIES.has(modality)) {
    return quarantine(`modality ${modality === '' ? '?' : modality}, SOP class ${sopClass}: photographic or unknown content`);
  }
  if (!VOLUME_MODALITIES.has(modality)) return { kind: 'clear' };
  const part = (ds.string(T.BodyPartExamined) ?? '').toUpperCase().replace(/[^A-Z]/g, '');
  if (part === '') return quarantine(`${modality} without Body Part Examined`);
  if (FACE_BODY_PARTS.has(part) || FACE_WORDS.test(part)) return quarantine(`${modality} of body part ${part}`);
  return { kind: 'clear' };
}

function quarantine(why: string): VisualFeaturesVerdict {
  return { kind: 'quarantine', detail: `${why}: may show a face; Clean Recognizable Visual Features is requested and dicomgate cannot remove faces` };
}
