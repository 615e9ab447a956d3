// Convert pictures and volumes (JPEG, PNG, BMP, TIFF, NIfTI) into DICOM and store them: the form
// sends the files and a metadata object to POST /tools/convert (multipart/form-data; contract in
// docs/ui.md). Attaching to an existing study means giving its StudyInstanceUID. The upload page's
// destination applies: a project goes in the `project` field (de-identified through it first).
import { ApiError, request } from '../api.ts';
import { errorBox, h } from '../dom.ts';
import { AS_IS } from '../upload-destination.ts';

interface ConvertAnswer {
  instances?: { ID?: string | null; Status?: string; Reason?: string }[];
  errors?: { source?: string; message?: string }[];
}

/** `destination`: the upload page's choice (a project name, or AS_IS). */
export function convertSection(destination: () => string = () => AS_IS): HTMLElement {
  const field = (id: string, label: string, input: HTMLElement) => h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const files = h('input', { id: 'cv-files', type: 'file', multiple: true, accept: '.jpg,.jpeg,.png,.bmp,.tif,.tiff,.nii,.nii.gz,.gz', required: true });
  const pid = h('input', { id: 'cv-pid', autocomplete: 'off' });
  const pname = h('input', { id: 'cv-pname', autocomplete: 'off', placeholder: 'Family^Given' });
  const desc = h('input', { id: 'cv-desc', autocomplete: 'off' });
  const study = h('input', { id: 'cv-study', autocomplete: 'off', placeholder: '1.2.840…', pattern: '[0-9.]{1,64}' });
  const modality = h('select', { id: 'cv-modality' }, h('option', { value: '' }, 'Picture (secondary capture)'), h('option', { value: 'CT' }, 'NIfTI as CT'), h('option', { value: 'MR' }, 'NIfTI as MR'));
  const burned = h('select', { id: 'cv-burned' }, h('option', { value: 'yes' }, 'Yes (photos and scans may show names)'), h('option', { value: 'no' }, 'No'));
  const out = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Convert and store');
  const form = h(
    'form',
    { class: 'card convert' },
    field('cv-files', 'Images or NIfTI volumes', files),
    field('cv-pid', 'Patient ID', pid),
    field('cv-pname', 'Patient name', pname),
    field('cv-desc', 'Study description', desc),
    field('cv-study', 'Attach to study (Study Instance UID, optional)', study),
    field('cv-modality', 'Store as', modality),
    field('cv-burned', 'May show burned-in text', burned),
    h('div', { class: 'field actions' }, button),
    out,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const attributes: Record<string, string> = {};
    if (pid.value.trim()) attributes.PatientID = pid.value.trim();
    if (pname.value.trim()) attributes.PatientName = pname.value.trim();
    if (desc.value.trim()) attributes.StudyDescription = desc.value.trim();
    if (study.value.trim()) attributes.StudyInstanceUID = study.value.trim();
    const body = new FormData();
    for (const f of files.files ?? []) body.append('file', f, f.name);
    body.append('attributes', JSON.stringify(attributes));
    if (modality.value) body.append('modality', modality.value);
    body.append('burnedInAnnotation', burned.value);
    const project = destination();
    if (project !== AS_IS) body.append('project', project);
    button.disabled = true;
    out.replaceChildren(h('p', { class: 'muted' }, 'Converting…'));
    request('POST', '/tools/convert', { body })
      .then(async (res) => {
        const a = (await res.json()) as ConvertAnswer;
        const all = a.instances ?? [];
        const n = all.filter((i) => i.Status === 'Success' || i.Status === 'AlreadyStored').length;
        const held = all.filter((i) => i.Status === 'Quarantined');
        const refused = all.filter((i) => i.Status !== 'Success' && i.Status !== 'AlreadyStored' && i.Status !== 'Quarantined');
        out.replaceChildren(
          h('p', { class: 'ok' }, `${n} DICOM instance${n === 1 ? '' : 's'} stored${project !== AS_IS ? ` (de-identified by project ${project})` : ''}.`),
          ...(held.length ? [h('p', { class: 'held' }, `${held.length} quarantined for the honest broker's review: ${[...new Set(held.map((i) => i.Reason ?? 'no reason given'))].join('; ')}`)] : []),
          ...(refused.length ? [errorBox(`${refused.length} refused: ${[...new Set(refused.map((i) => i.Reason ?? 'no reason given'))].join('; ')}`)] : []),
          ...(a.errors ?? []).map((x) => errorBox(`${x.source ?? "file"}: ${x.message ?? "could not be converted"}`)),
        );
      })
      .catch((err: unknown) => {
        const msg = err instanceof ApiError && err.status === 404 ? 'Conversion is not available on this server (POST /tools/convert is missing).' : err instanceof Error ? err.message : String(err);
        out.replaceChildren(errorBox(msg));
      })
      .finally(() => (button.disabled = false));
  });
  return h('section', {}, h('h2', {}, 'Convert pictures and NIfTI'), h('p', {}, 'JPEG, PNG, BMP, TIFF and NIfTI files become DICOM instances in a new study, or in the study you name, and go to the destination chosen above.'), form);
}
