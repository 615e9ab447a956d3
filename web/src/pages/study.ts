// One study: key attributes, its series with thumbnails (server-rendered WADO-RS /thumbnail, or
// drawn from a frame when the server cannot), instance counts, ZIP and DICOMDIR media download, delete (admin,
// confirmed) and "open in viewer".
import { getJson, request } from '../api.ts';
import { clear, errorBox, fmtDate, fmtName, h } from '../dom.ts';
import { BASE, navigate, type Page } from '../router.ts';
import { hasRole } from '../session.ts';
import { str, TAG } from '../viewer/dicom-json.ts';
import { sliceFromJson } from '../viewer/geometry.ts';
import { decodeFrame, fetchFrames, instanceMetadata, seriesInstances } from '../viewer/loader.ts';
import { autoWindow, renderWindow } from '../viewer/pixels.ts';
import { isImageSeries, type OrthancSeries } from './viewer.ts';
import { sendPanel } from './send-panel.ts';

interface OrthancStudyFull {
  ID: string;
  MainDicomTags: Record<string, string>;
  PatientMainDicomTags: Record<string, string>;
  Series: string[];
}

const THUMB = 96;

async function thumbnail(studyUid: string, s: OrthancSeries, canvas: HTMLCanvasElement): Promise<void> {
  const list = await seriesInstances(studyUid, s.MainDicomTags.SeriesInstanceUID);
  list.sort((a, b) => Number(str(a, TAG.InstanceNumber) ?? 0) - Number(str(b, TAG.InstanceNumber) ?? 0));
  const mid = list[Math.floor(list.length / 2)];
  const sop = mid ? str(mid, TAG.SOPInstanceUID) : undefined;
  if (sop === undefined) return;
  const slice = sliceFromJson(await instanceMetadata(studyUid, s.MainDicomTags.SeriesInstanceUID, sop));
  const [frame] = await fetchFrames(studyUid, s.MainDicomTags.SeriesInstanceUID, sop, [1]);
  const img = await decodeFrame(slice, frame);
  const full = document.createElement('canvas');
  full.width = slice.columns;
  full.height = slice.rows;
  const ctx = full.getContext('2d')!;
  const data = ctx.createImageData(slice.columns, slice.rows);
  if (img.values) {
    const w = slice.windowCenter !== undefined && slice.windowWidth !== undefined ? { center: slice.windowCenter, width: slice.windowWidth } : autoWindow(img.values);
    renderWindow(img.values, w.center, w.width, slice.photometric === 'MONOCHROME1', data.data);
  } else if (img.rgba) data.data.set(img.rgba.subarray(0, data.data.length));
  ctx.putImageData(data, 0, 0);
  const k = Math.min(THUMB / slice.columns, THUMB / slice.rows);
  const tctx = canvas.getContext('2d')!;
  tctx.fillStyle = '#000';
  tctx.fillRect(0, 0, THUMB, THUMB);
  tctx.drawImage(full, (THUMB - slice.columns * k) / 2, (THUMB - slice.rows * k) / 2, slice.columns * k, slice.rows * k);
}

/**
 * The server renders series thumbnails (WADO-RS /thumbnail, the middle image, its own window);
 * when it cannot (compressed pixel data) the browser draws one from a frame instead.
 */
function serverThumbnail(studyUid: string, s: OrthancSeries): HTMLElement {
  if (!isImageSeries(s)) return h('span', { class: 'thumb rt' }, s.MainDicomTags.Modality ?? '');
  const img = h('img', {
    class: 'thumb',
    alt: '',
    width: THUMB,
    height: THUMB,
    loading: 'lazy',
    src: `/dicom-web/studies/${studyUid}/series/${s.MainDicomTags.SeriesInstanceUID}/thumbnail?viewport=${THUMB},${THUMB}`,
  });
  img.addEventListener('error', () => {
    const canvas = h('canvas', { width: THUMB, height: THUMB, class: 'thumb', 'aria-hidden': 'true' });
    img.replaceWith(canvas);
    void thumbnail(studyUid, s, canvas).catch(() => undefined);
  }, { once: true });
  return img;
}

/**
 * "Open in OHIF" when the server serves it (it says so in a <meta> of the shell). OHIF takes the
 * StudyInstanceUID in its URL: on the research side that UID is the pseudonymised one.
 */
export function ohifLink(studyUid: string | undefined): HTMLElement | null {
  const base = document.querySelector<HTMLMetaElement>('meta[name="dicomgate-ohif"]')?.content;
  if (base === undefined || studyUid === undefined) return null;
  return h('a', { class: 'button', href: `${base}viewer?StudyInstanceUIDs=${encodeURIComponent(studyUid)}`, 'data-testid': 'open-ohif' }, 'Open in OHIF');
}

export const studyPage: Page = async (main, params) => {
  let study: OrthancStudyFull;
  let series: OrthancSeries[];
  try {
    [study, series] = await Promise.all([getJson<OrthancStudyFull>(`/studies/${params.id}`), getJson<OrthancSeries[]>(`/studies/${params.id}/series`)]);
  } catch (e) {
    main.append(errorBox(e instanceof Error ? e.message : String(e)));
    return;
  }
  const m = study.MainDicomTags;
  const p = study.PatientMainDicomTags;
  const studyUid = m.StudyInstanceUID;
  series.sort((a, b) => Number(a.MainDicomTags.SeriesNumber ?? 0) - Number(b.MainDicomTags.SeriesNumber ?? 0));
  const facts: [string, string | undefined][] = [
    ['Patient', fmtName(p.PatientName)],
    ['Patient ID', p.PatientID],
    ['Birth date', fmtDate(p.PatientBirthDate)],
    ['Sex', p.PatientSex],
    ['Study date', fmtDate(m.StudyDate)],
    ['Description', m.StudyDescription],
    ['Accession', m.AccessionNumber],
    ['Study ID', m.StudyID],
    ['Study UID', studyUid],
  ];
  const actions = h(
    'div',
    { class: 'buttons' },
    h('a', { class: 'button primary', href: `${BASE}viewer/${study.ID}` }, 'Open in viewer'),
    ohifLink(studyUid),
    h('a', { class: 'button', href: `/studies/${study.ID}/archive`, download: `${study.ID}.zip` }, 'Download ZIP'),
    // The same study as DICOM media (PS3.10: a DICOMDIR and short File IDs), for CD/USB-style readers.
    h('a', { class: 'button', href: `/studies/${study.ID}/media`, download: `${study.ID}-media.zip` }, 'Download DICOMDIR media'),
    hasRole('admin') ? h('button', { type: 'button', class: 'danger', onclick: () => void remove() }, 'Delete study…') : null,
  );
  const status = h('div', { 'aria-live': 'assertive' });
  main.append(
    h('p', {}, h('a', { href: BASE }, '← Archive')),
    h('h1', {}, m.StudyDescription || 'Study'),
    h('dl', { class: 'facts card' }, facts.filter(([, v]) => v).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v!)])),
    actions,
    sendPanel(study.ID, { destinations: hasRole('uploader') }),
    status,
    h('h2', {}, `Series (${series.length})`),
    h(
      'table',
      { class: 'grid', 'data-testid': 'series' },
      h('thead', {}, h('tr', {}, ['', 'Modality', 'No.', 'Description', 'Instances', ''].map((x) => h('th', { scope: 'col' }, x)))),
      h(
        'tbody',
        {},
        series.map((s) => {
          const canvas = serverThumbnail(studyUid, s);
          return h(
            'tr',
            {},
            h('td', {}, canvas),
            h('td', {}, s.MainDicomTags.Modality ?? ''),
            h('td', { class: 'num' }, s.MainDicomTags.SeriesNumber ?? ''),
            h('td', {}, s.MainDicomTags.SeriesDescription ?? ''),
            h('td', { class: 'num' }, s.Instances.length),
            h('td', {}, isImageSeries(s) ? h('a', { href: `${BASE}viewer/${study.ID}/${s.ID}` }, 'View') : null, ' ', h('a', { href: `/series/${s.ID}/archive`, download: `${s.ID}.zip` }, 'ZIP')),
          );
        }),
      ),
    ),
  );

  async function remove(): Promise<void> {
    const n = series.reduce((a, s) => a + s.Instances.length, 0);
    if (!confirm(`Delete this study and its ${n} instances from the archive? This cannot be undone.`)) return;
    clear(status);
    try {
      await request('DELETE', `/studies/${study.ID}`);
      navigate('', true);
    } catch (e) {
      status.append(errorBox(e instanceof Error ? e.message : String(e)));
    }
  }
};
