// Referential integrity across a set of objects (a de-identified release, or its input): every UID
// one object uses to point at another (RT structure set -> CT images and frame of reference, plan ->
// structure set, dose -> plan, SR evidence -> images, source/referenced images and series) must name
// an object, series, study or frame of reference in the set. Pure: callers read the files.
import type { Dataset } from '../dicom/dataset.ts';
import { formatTag, T } from '../dicom/tag.ts';

export interface UnresolvedReference {
  /** SOP Instance UID of the referring object. */
  readonly from: string;
  /** Path of the referencing attribute, e.g. "(3006,0010)[0].(3006,0012)[0].(3006,0014)[0].(3006,0016)[3].(0008,1155)". */
  readonly path: string;
  readonly kind: 'instance' | 'series' | 'study' | 'frame-of-reference';
  readonly uid: string;
}

// Study references in RT objects point at a study through a "Detached Study Management" SOP class.
const STUDY_CLASSES = new Set(['1.2.840.10008.3.1.2.3.1', '1.2.840.10008.3.1.2.3.2']);

export interface ReferenceTargets {
  readonly instances: Set<string>;
  readonly series: Set<string>;
  readonly studies: Set<string>;
  readonly framesOfReference: Set<string>;
}

export function collectTargets(datasets: Iterable<Dataset>): ReferenceTargets {
  const t: ReferenceTargets = { instances: new Set(), series: new Set(), studies: new Set(), framesOfReference: new Set() };
  for (const ds of datasets) {
    const add = (set: Set<string>, v: string | undefined) => v && set.add(v);
    add(t.instances, ds.string(T.SOPInstanceUID));
    add(t.series, ds.string(T.SeriesInstanceUID));
    add(t.studies, ds.string(T.StudyInstanceUID));
    add(t.framesOfReference, ds.string(T.FrameOfReferenceUID));
  }
  return t;
}

/** References in `ds` (at any depth below the top level) that no object of `targets` resolves. */
export function unresolvedReferences(ds: Dataset, targets: ReferenceTargets): UnresolvedReference[] {
  const from = ds.string(T.SOPInstanceUID) ?? '?';
  const out: UnresolvedReference[] = [];
  const visit = (item: Dataset, prefix: string, depth: number): void => {
    for (const tag of item.tags()) {
      const path = prefix + formatTag(tag);
      const items = item.items(tag);
      if (items) {
        items.forEach((it, i) => visit(it, `${path}[${i}].`, depth + 1));
        continue;
      }
      if (depth === 0) continue; // the object's own UIDs
      const check = (kind: UnresolvedReference['kind'], set: Set<string>): void => {
        for (const uid of item.strings(tag)) if (uid !== '' && !set.has(uid)) out.push({ from, path, kind, uid });
      };
      if (tag === T.ReferencedSOPInstanceUID) {
        const cls = item.string(T.ReferencedSOPClassUID);
        if (cls !== undefined && STUDY_CLASSES.has(cls)) check('study', targets.studies);
        else check('instance', targets.instances);
      } else if (tag === T.SeriesInstanceUID) check('series', targets.series);
      else if (tag === T.StudyInstanceUID) check('study', targets.studies);
      else if (tag === T.FrameOfReferenceUID || tag === T.ReferencedFrameOfReferenceUID || tag === T.RelatedFrameOfReferenceUID) {
        check('frame-of-reference', targets.framesOfReference);
      }
    }
  };
  visit(ds, '', 0);
  return out;
}
