// The viewer page: one image series as a stack, with the study's RT objects over it —
// RTSTRUCT contours (legend toggles ROIs), RTDOSE colour wash, RTPLAN summary.
import { getJson } from '../api.ts';
import { append, clear, errorBox, h } from '../dom.ts';
import { BASE, type Page } from '../router.ts';
import { str, TAG, type JsonDataset } from '../viewer/dicom-json.ts';
import { sliceFromJson, sliceIndexAt, sortSlices, patientToPixel, type Slice, type Vec3 } from '../viewer/geometry.ts';
import { decodeFrame, fetchFrames, instanceMetadata, seriesInstances, seriesMetadata, type Decoded } from '../viewer/loader.ts';
import { CT_PRESETS } from '../viewer/pixels.ts';
import { doseFrameFor, doseGridFrom, doseWash, ISODOSE } from '../viewer/rtdose.ts';
import { summarizePlan, type PlanSummary } from '../viewer/rtplan.ts';
import { parseStructureSet, type Roi, type StructureSet } from '../viewer/rtstruct.ts';
import { Viewport, type ContourMap, type DoseOverlay, type StackItem, type Tool } from '../viewer/viewport.ts';
import { modalityValues } from '../viewer/pixels.ts';

export interface OrthancSeries {
  ID: string;
  MainDicomTags: Record<string, string>;
  Instances: string[];
}

const NOT_IMAGES = new Set(['RTSTRUCT', 'RTPLAN', 'RTDOSE', 'RTRECORD', 'SR', 'REG', 'SEG', 'KO', 'PR', 'RWV', 'DOC', 'PLAN', 'FID']);
export const isImageSeries = (s: OrthancSeries) => !NOT_IMAGES.has(s.MainDicomTags.Modality ?? '');
const MAX_DOSE_BYTES = 64 * 1024 * 1024;
const MAX_DECODED_BYTES = 512 * 1024 * 1024;

function stackOf(slices: Slice[]): StackItem[] {
  return sortSlices(slices).flatMap((s) => Array.from({ length: s.frames }, (_, f) => ({ slice: s, frame: f + 1 })));
}

/** Which contours fall on which stack image: by the referenced SOP instance, else by plane. */
export function mapContours(stack: StackItem[], sets: StructureSet[]): { map: ContourMap; best: Map<Roi, number> } {
  const map: ContourMap = new Map();
  const best = new Map<Roi, number>();
  const bestLen = new Map<Roi, number>();
  const bySop = new Map<string, number>();
  stack.forEach((it, i) => it.frame === 1 && bySop.set(it.slice.sopInstanceUid, i));
  const slices = stack.map((it) => it.slice);
  for (const ss of sets) {
    for (const roi of ss.rois) {
      for (const c of roi.contours) {
        const p0: Vec3 = [c.points[0], c.points[1], c.points[2]];
        const i = (c.imageSop !== undefined ? bySop.get(c.imageSop) : undefined) ?? sliceIndexAt(slices, p0);
        if (i === undefined) continue;
        const s = stack[i].slice;
        const pts: number[] = [];
        for (let k = 0; k + 2 < c.points.length; k += 3) pts.push(...patientToPixel(s, [c.points[k], c.points[k + 1], c.points[k + 2]]));
        const list = map.get(i) ?? [];
        list.push({ roi, closed: c.type === 'CLOSED_PLANAR', pts });
        map.set(i, list);
        if (pts.length > (bestLen.get(roi) ?? 0)) {
          bestLen.set(roi, pts.length);
          best.set(roi, i);
        }
      }
    }
  }
  return { map, best };
}

async function loadRt(study: string, series: OrthancSeries[], modality: string): Promise<JsonDataset[]> {
  const out: JsonDataset[] = [];
  for (const s of series.filter((x) => x.MainDicomTags.Modality === modality)) out.push(...(await seriesMetadata(study, s.MainDicomTags.SeriesInstanceUID)));
  return out;
}

/** One image series on screen with the RT overlays that belong to its frame of reference. */
interface Pane {
  series: OrthancSeries;
  vp: Viewport;
  best: Map<Roi, number>;
  start: number;
  dose: ReturnType<typeof setupDose>;
  prefetch(isStopped: () => boolean): Promise<void>;
}

/** Start where there is something to see: the image with the most contour points, else the middle. */
function startIndex(map: ContourMap, length: number): number {
  let start = Math.floor(length / 2);
  let most = 0;
  for (const [i, list] of map) {
    const n = list.reduce((a, c) => a + c.pts.length, 0);
    if (n > most) [most, start] = [n, i];
  }
  return start;
}

// What QIDO (the index) lacks and the first image's own metadata supplies until the series'
// metadata arrives; never used to decode any image but the first.
const TEMPLATE_FIELDS = ['spacing', 'bitsAllocated', 'bitsStored', 'pixelSigned', 'samplesPerPixel', 'photometric', 'slope', 'intercept', 'windowCenter', 'windowWidth'] as const;

async function openPane(studyUid: string, series: OrthancSeries, sets: StructureSet[], doses: JsonDataset[]): Promise<Pane | string> {
  const seriesUid = series.MainDicomTags.SeriesInstanceUID;
  // The index alone (QIDO-RS) gives every image's position, size and frame count: the stack's
  // order and the first image to show are known without reading a file, so the time to the
  // first image does not grow with the series' length.
  const sketch = (await seriesInstances(studyUid, seriesUid)).filter((m) => m[TAG.Rows] !== undefined).map(sliceFromJson);
  const stack = stackOf(sketch);
  if (stack.length === 0) return 'This series holds no images.';
  const frameOfRef = stack[0].slice.frameOfReferenceUid;
  const sops = new Set(stack.map((s) => s.slice.sopInstanceUid));
  const mine = sets.filter(
    (ss) =>
      ss.rois.some((r) => r.contours.some((c) => c.imageSop !== undefined && sops.has(c.imageSop))) ||
      (frameOfRef !== undefined && (ss.frameOfReferenceUids.includes(frameOfRef) || ss.rois.some((r) => r.frameOfReferenceUid === frameOfRef))),
  );
  const start = startIndex(mapContours(stack, mine).map, stack.length);
  const first = stack[start].slice;
  Object.assign(first, sliceFromJson(await instanceMetadata(studyUid, seriesUid, first.sopInstanceUid)));
  for (const it of stack) if (it.slice !== first) for (const k of TEMPLATE_FIELDS) (it.slice as unknown as Record<string, unknown>)[k] = first[k];
  // Every image's own attributes (rescale may differ per image, e.g. PET): read in the background.
  const exact = seriesMetadata(studyUid, seriesUid).then((meta) => {
    const bySop = new Map(meta.map((m) => [str(m, TAG.SOPInstanceUID), m]));
    for (const it of stack) {
      const m = bySop.get(it.slice.sopInstanceUid);
      if (m && it.slice !== first) Object.assign(it.slice, sliceFromJson(m));
    }
    remap();
  });
  exact.catch(() => undefined);
  const cache = new Map<number, Promise<Decoded>>();
  const load = (i: number) => {
    let p = cache.get(i);
    if (!p) {
      const it = stack[i];
      p = (it.slice === first ? Promise.resolve() : exact).then(() => fetchFrames(studyUid, seriesUid, it.slice.sopInstanceUid, [it.frame])).then((f) => decodeFrame(it.slice, f[0]));
      p.catch(() => cache.delete(i));
      cache.set(i, p);
      // Bounded memory: drop the decoded image farthest from the one on screen.
      if (cache.size > limit) {
        const far = [...cache.keys()].reduce((a, b) => (Math.abs(b - vp.index) > Math.abs(a - vp.index) ? b : a));
        cache.delete(far);
      }
    }
    return p;
  };
  // Decoded images are float32 (4 bytes a pixel); keep at most ~512 MB of them.
  const limit = Math.max(16, Math.floor(MAX_DECODED_BYTES / (4 * first.rows * first.columns * first.samplesPerPixel)));
  const vp = new Viewport(stack, load);
  vp.element.dataset.series = series.ID;
  const best = new Map<Roi, number>();
  function remap(): void {
    const m = mapContours(stack, mine);
    vp.contours = m.map;
    best.clear();
    for (const [k, v] of m.best) best.set(k, v);
    void vp.refresh();
  }
  remap();
  const doseJson = frameOfRef === undefined ? undefined : doses.find((d) => str(d, TAG.FrameOfReferenceUID) === frameOfRef);
  const dose = doseJson ? setupDose(doseJson, studyUid, stack) : undefined;
  if (dose) vp.doseOverlay = dose.overlay;
  return {
    series,
    vp,
    best,
    start,
    dose,
    async prefetch(isStopped) {
      // Nearest images first, four requests in flight.
      const order = stack.map((_, i) => i).sort((a, b) => Math.abs(a - start) - Math.abs(b - start)).slice(0, limit);
      const worker = async (): Promise<void> => {
        for (let i = order.shift(); i !== undefined && !isStopped(); i = order.shift()) await load(i).catch(() => undefined);
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    },
  };
}

export const viewerPage: Page = async (main, params) => {
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');
  main.classList.add('viewer-page');
  main.append(status);
  let stopped = false;
  const isStopped = () => stopped;
  const cleanup = () => {
    stopped = true;
    main.classList.remove('viewer-page');
  };
  try {
    const t0 = performance.now();
    const studyJson = await getJson<{ MainDicomTags: Record<string, string> }>(`/studies/${params.study}`);
    const studyUid = studyJson.MainDicomTags.StudyInstanceUID;
    const all = await getJson<OrthancSeries[]>(`/studies/${params.study}/series`);
    const images = all.filter(isImageSeries).sort((a, b) => Number(a.MainDicomTags.SeriesNumber ?? 0) - Number(b.MainDicomTags.SeriesNumber ?? 0));
    const chosen = images.find((s) => s.ID === params.series) ?? images.find((s) => s.MainDicomTags.Modality === 'CT') ?? images[0];
    if (chosen === undefined) {
      status.replaceWith(errorBox('This study has no image series to show.'));
      return cleanup;
    }
    const [structs, plans, doses] = await Promise.all([
      loadRt(studyUid, all, 'RTSTRUCT').catch(() => []),
      loadRt(studyUid, all, 'RTPLAN').catch(() => []),
      loadRt(studyUid, all, 'RTDOSE').catch(() => []),
    ]);
    // Parsed once for the page: panes share the ROI objects, so the legend toggles all of them.
    const sets = structs.map(parseStructureSet);
    const opened = await openPane(studyUid, chosen, sets, doses);
    if (stopped) return cleanup;
    if (typeof opened === 'string') {
      status.replaceWith(errorBox(opened));
      return cleanup;
    }
    const first: Pane = opened;
    const panes: Pane[] = [first];
    let active = first;
    const grid = h('div', { class: 'panes' }, first.vp.element);
    const track = (p: Pane) => {
      p.vp.canvas.addEventListener('focus', () => (active = p));
      p.vp.canvas.addEventListener('pointerdown', () => (active = p));
    };
    track(first);
    const side = h('aside', { class: 'side' });
    const layout = h('div', { class: 'viewer' }, side, grid);
    status.replaceWith(h('h1', { class: 'sr-only' }, 'Viewer'), layout);
    drawSide();
    await first.vp.show(first.start);
    first.vp.element.dataset.firstImageMs = String(Math.round(performance.now() - t0));
    first.vp.canvas.focus();
    void first.prefetch(isStopped);

    async function compare(s: OrthancSeries): Promise<void> {
      if (panes.length > 1) {
        panes.pop()!.vp.element.remove();
        grid.classList.remove('two');
      }
      if (s.ID === first.series.ID) return drawSide();
      const p = await openPane(studyUid, s, sets, doses);
      if (typeof p === 'string' || stopped) return;
      panes.push(p);
      track(p);
      grid.append(p.vp.element);
      grid.classList.add('two');
      drawSide();
      await p.vp.show(p.start);
      void p.prefetch(isStopped);
    }

    function drawSide(): void {
      const rois = [...new Set(panes.flatMap((p) => [...p.vp.contours.values()].flat().map((c) => c.roi)))].sort((a, b) => a.number - b.number);
      const dose = panes.find((p) => p.dose)?.dose;
      clear(side);
      append(side, [
        h('h2', {}, 'Series'),
        h(
          'ul',
          { class: 'plain series-list' },
          images.map((s) =>
            h(
              'li',
              {},
              h('a', { href: `${BASE}viewer/${params.study}/${s.ID}`, 'aria-current': s.ID === chosen.ID ? 'true' : undefined }, `${s.MainDicomTags.Modality ?? '?'} ${s.MainDicomTags.SeriesNumber ?? ''} ${s.MainDicomTags.SeriesDescription ?? ''} (${s.Instances.length})`),
              s.ID === chosen.ID
                ? null
                : h('button', { type: 'button', class: 'small', 'aria-pressed': panes[1]?.series.ID === s.ID ? 'true' : 'false', onclick: () => void compare(panes[1]?.series.ID === s.ID ? chosen : s) }, panes[1]?.series.ID === s.ID ? 'Close' : 'Side by side'),
            ),
          ),
        ),
        h('h2', {}, 'Window'),
        presets(),
        tools(),
        rois.length > 0 ? h('h2', {}, 'Structures') : null,
        rois.length > 0 ? legend(rois) : null,
        dose ? h('h2', {}, 'Dose') : null,
        dose ? doseLegend(dose.maxText) : null,
        plans.length > 0 ? h('h2', {}, 'Plan') : null,
        plans.map((p) => planTable(summarizePlan(p))),
        h('p', { class: 'muted small' }, 'Wheel or ↑/↓: slice · drag: window/level · right-drag: pan · Ctrl+wheel: zoom · R: reset'),
      ]);
    }

    function presets(): HTMLElement {
      const s0 = first.vp.stack[0].slice;
      return h(
        'div',
        { class: 'buttons' },
        CT_PRESETS.map((p, i) => h('button', { type: 'button', title: `Key ${i + 1}`, onclick: () => active.vp.setWindow(p.center, p.width) }, p.name)),
        s0.windowCenter !== undefined ? h('button', { type: 'button', onclick: () => active.vp.setWindow(s0.windowCenter!, s0.windowWidth ?? 400) }, 'As stored') : null,
      );
    }

    function tools(): HTMLElement {
      return h(
        'fieldset',
        { class: 'tools' },
        h('legend', {}, 'Left mouse button'),
        (['window', 'pan', 'zoom'] as Tool[]).map((t) =>
          h('label', {}, h('input', { type: 'radio', name: 'tool', value: t, checked: first.vp.tool === t, onchange: () => panes.forEach((p) => (p.vp.tool = t)) }), { window: 'Window/level', pan: 'Pan', zoom: 'Zoom' }[t]),
        ),
        h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => active.vp.zoomBy(1.25), 'aria-label': 'Zoom in' }, '+'), h('button', { type: 'button', onclick: () => active.vp.zoomBy(0.8), 'aria-label': 'Zoom out' }, '−'), h('button', { type: 'button', onclick: () => active.vp.reset() }, 'Reset view')),
      );
    }

    function legend(rois: Roi[]): HTMLElement {
      return h(
        'ul',
        { class: 'plain legend', 'data-testid': 'roi-legend' },
        rois.map((r) => {
          const box = h('input', {
            type: 'checkbox',
            checked: !first.vp.hiddenRois.has(r),
            'aria-label': `Show ${r.name}`,
            onchange: (e: Event) => {
              for (const p of panes) {
                if ((e.target as HTMLInputElement).checked) p.vp.hiddenRois.delete(r);
                else p.vp.hiddenRois.add(r);
                void p.vp.refresh();
              }
            },
          });
          return h(
            'li',
            { 'data-roi': r.number, 'data-color': r.color.join(',') },
            box,
            swatch(`rgb(${r.color.join(', ')})`),
            h('button', {
              type: 'button',
              class: 'link',
              title: 'Go to the image with its largest contour',
              onclick: () => {
                const p = panes.find((x) => x.best.has(r));
                if (p) void p.vp.show(p.best.get(r)!);
              },
            }, r.name),
          );
        }),
      );
    }

    function doseLegend(maxText: string): HTMLElement {
      return h(
        'div',
        {},
        h('label', {}, h('input', { type: 'checkbox', checked: first.vp.showDose, onchange: (e: Event) => panes.forEach((p) => ((p.vp.showDose = (e.target as HTMLInputElement).checked), void p.vp.refresh())) }), ' Colour wash'),
        h('ul', { class: 'plain legend' }, ISODOSE.map((l) => h('li', {}, swatch(`rgb(${l.color.join(',')})`), `≥ ${Math.round(l.level * 100)} %`))),
        h('p', { class: 'muted small' }, `100 % = ${maxText}`),
      );
    }

    first.vp.canvas.ownerDocument.addEventListener('keydown', presetKeys);
    const base = cleanup;
    return () => {
      first.vp.canvas.ownerDocument.removeEventListener('keydown', presetKeys);
      base();
    };

    function presetKeys(e: KeyboardEvent): void {
      if (!(e.target instanceof HTMLCanvasElement)) return;
      const p = CT_PRESETS[Number(e.key) - 1];
      if (p) active.vp.setWindow(p.center, p.width);
    }
  } catch (e) {
    clear(main);
    main.append(errorBox(e instanceof Error ? e.message : String(e)));
  }
  return cleanup;
};

/** A colour square; set through the CSSOM because the CSP forbids style attributes. */
function swatch(color: string): HTMLElement {
  const el = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  el.style.backgroundColor = color;
  return el;
}

function planTable(p: PlanSummary): HTMLElement {
  const f = (v: number | undefined, unit = '') => (v === undefined ? '—' : `${Math.round(v * 100) / 100}${unit}`);
  return h(
    'div',
    { class: 'plan', 'data-testid': 'plan' },
    h('dl', {}, h('dt', {}, 'Label'), h('dd', {}, p.label ?? '—'), h('dt', {}, 'Fractions'), h('dd', {}, f(p.fractions)), h('dt', {}, 'Prescription'), h('dd', {}, f(p.prescriptionGy, ' Gy')), h('dt', {}, 'Beams'), h('dd', {}, p.beams.length)),
    h(
      'table',
      { class: 'grid small' },
      h('thead', {}, h('tr', {}, ['Beam', 'Type', 'Radiation', 'Energy', 'Gantry', 'MU'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, p.beams.map((b) => h('tr', {}, h('td', {}, b.name ?? String(b.number ?? '')), h('td', {}, b.type ?? ''), h('td', {}, b.radiation ?? ''), h('td', {}, f(b.energy)), h('td', {}, f(b.gantryAngle, '°')), h('td', {}, f(b.meterset))))),
    ),
  );
}

function setupDose(ds: JsonDataset, studyUid: string, stack: StackItem[]): { overlay: DoseOverlay; maxText: string } | undefined {
  const geometry = sliceFromJson(ds);
  const grid = doseGridFrom(ds, { ...geometry, slope: 1, intercept: 0 });
  grid.slice.slope = grid.scaling;
  const bytes = geometry.rows * geometry.columns * (geometry.bitsAllocated / 8) * geometry.frames;
  if (bytes > MAX_DOSE_BYTES || geometry.samplesPerPixel !== 1) return undefined;
  const series = str(ds, TAG.SeriesInstanceUID)!;
  const sop = str(ds, TAG.SOPInstanceUID)!;
  let frames: Promise<{ values: Float32Array[]; max: number }> | undefined;
  const washes = new Map<number, Uint8ClampedArray>();
  const all = () =>
    (frames ??= fetchFrames(studyUid, series, sop, Array.from({ length: geometry.frames }, (_, i) => i + 1)).then((fs) => {
      const values = fs.map((f) => modalityValues(grid.slice, f.bytes));
      let max = 0;
      for (const v of values) for (let i = 0; i < v.length; i++) if (v[i] > max) max = v[i];
      return { values, max };
    }));
  const overlay: DoseOverlay = {
    async at(index) {
      const pos = stack[index].slice.position;
      if (pos === undefined) return undefined;
      const f = doseFrameFor(grid, pos);
      if (f === undefined) return undefined;
      const { values, max } = await all();
      let rgba = washes.get(f);
      if (!rgba) {
        rgba = new Uint8ClampedArray(geometry.rows * geometry.columns * 4);
        doseWash(values[f - 1], max, 90, rgba);
        washes.set(f, rgba);
      }
      return { geometry: grid.slice, rgba };
    },
  };
  return { overlay, maxText: `maximum of the grid (${grid.units ?? 'units'})` };
}
