// Clean Recognizable Visual Features Option (PS3.15 E.3.2): images that may show a face are quarantined.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { T } from '../../src/dicom/tag.ts';
import type { Dataset } from '../../src/dicom/dataset.ts';
import { deidentify } from '../../src/deid/engine.ts';
import { compileProject, resolveProject, type ProjectConfig } from '../../src/deid/project.ts';
import { CT, FakePseudonymizer, object, RTSTRUCT } from './helpers.ts';

const FACES: ProjectConfig = { options: { cleanRecognizableVisualFeatures: true } };
const VL_PHOTO = '1.2.840.10008.5.1.4.1.1.77.1.4';

function image(sopClass: string, modality: string, bodyPart?: string, ...more: [number, 'CS', string][]): Dataset {
  const d = object(sopClass, [T.Modality, 'CS', modality], ...more);
  if (bodyPart !== undefined) d.setString(T.BodyPartExamined, 'CS', bodyPart);
  d.setBytes(T.PixelData, 'OW', new Uint8Array(8));
  return d;
}

async function outcome(d: Dataset, project: string | ProjectConfig) {
  const proj = typeof project === 'string' ? resolveProject(project) : compileProject('faces', project);
  return deidentify({ dataset: d, project: proj, pseudonymizer: new FakePseudonymizer() });
}

describe('Clean Recognizable Visual Features Option', () => {
  it('does nothing without the option: a head CT is de-identified', async () => {
    assert.equal((await outcome(image(CT, 'CT', 'HEAD'), 'basic')).kind, 'deidentified');
  });

  it('quarantines head, neck and whole-body volumes and volumes of unknown body part', async () => {
    for (const [modality, part] of [['CT', 'HEAD'], ['MR', 'BRAIN'], ['CT', 'Head Neck'], ['PT', 'WHOLEBODY'], ['MR', undefined], ['CT', '']] as const) {
      const out = await outcome(image(CT, modality, part), FACES);
      assert.equal(out.kind, 'quarantined', `${modality} ${part}`);
      assert.equal((out as { reason: string }).reason, 'recognizable-visual-features');
      assert.doesNotMatch((out as { detail: string }).detail, /Doe|MRN/);
    }
  });

  it('quarantines photographs, whatever the burned-in policy accepts', async () => {
    const out = await outcome(image(VL_PHOTO, 'XC', 'FACE'), { ...FACES, burnedIn: { accept: true } });
    assert.equal((out as { reason: string }).reason, 'recognizable-visual-features');
  });

  it('follows Recognizable Visual Features (0028,0302) when the object states it', async () => {
    assert.equal((await outcome(image(CT, 'CT', 'HEAD', [T.RecognizableVisualFeatures, 'CS', 'NO']), FACES)).kind, 'deidentified');
    assert.equal((await outcome(image(CT, 'CT', 'CHEST', [T.RecognizableVisualFeatures, 'CS', 'YES']), FACES)).kind, 'quarantined');
  });

  it('passes a chest CT and objects without pixel data, recording the option', async () => {
    const chest = await outcome(image(CT, 'CT', 'CHEST'), FACES);
    assert.equal(chest.kind, 'deidentified');
    if (chest.kind !== 'deidentified') return;
    const codes = chest.dataset.items(T.DeidentificationMethodCodeSequence)?.map((i) => i.string(T.CodeValue));
    assert.ok(codes?.includes('113102'));
    assert.equal((await outcome(object(RTSTRUCT, [T.Modality, 'CS', 'RTSTRUCT']), FACES)).kind, 'deidentified');
  });
});
