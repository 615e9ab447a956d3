// One image stack on a canvas: scrolling, window/level, zoom and pan by mouse, wheel and keys,
// with RT structure contours and an optional dose colour wash drawn over the image.
import { h } from '../dom.ts';
import { patientToPixel, type Slice, type Vec3 } from './geometry.ts';
import { autoWindow, renderWindow } from './pixels.ts';
import type { Decoded } from './loader.ts';
import type { Roi } from './rtstruct.ts';

export interface StackItem {
  slice: Slice;
  frame: number;
}

export interface DoseOverlay {
  /** Geometry of the dose grid (as a slice) and the RGBA wash for the shown CT slice. */
  at(index: number): Promise<{ geometry: Slice; rgba: Uint8ClampedArray } | undefined>;
}

/** Contour polylines per stack index, in fractional pixel coordinates of that slice. */
export type ContourMap = Map<number, { roi: Roi; closed: boolean; pts: number[] }[]>;

export type Tool = 'window' | 'pan' | 'zoom';

export class Viewport {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly #info: HTMLElement;
  readonly #status: HTMLElement;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #imageCanvas = document.createElement('canvas');
  readonly #doseCanvas = document.createElement('canvas');
  #index = 0;
  #center = 40;
  #width = 400;
  #windowSet = false;
  #zoom = 1;
  #pan: [number, number] = [0, 0];
  #current: Decoded | undefined;
  #dose: { geometry: Slice; rgba: Uint8ClampedArray } | undefined;
  #drawn = -1;
  tool: Tool = 'window';
  contours: ContourMap = new Map();
  hiddenRois = new Set<Roi>();
  doseOverlay: DoseOverlay | undefined;
  showDose = true;
  onChange: () => void = () => undefined;

  constructor(
    readonly stack: StackItem[],
    readonly load: (i: number) => Promise<Decoded>,
  ) {
    this.canvas = h('canvas', { tabindex: '0', 'aria-label': 'Image. Arrow keys or wheel: change slice; drag: window/level; +/-: zoom; R: reset', 'data-testid': 'viewport' });
    this.#ctx = this.canvas.getContext('2d', { willReadFrequently: true })!;
    this.#info = h('div', { class: 'vp-info', 'aria-live': 'polite', 'data-testid': 'vp-info' });
    this.#status = h('div', { class: 'vp-status' });
    this.element = h('div', { class: 'viewport' }, this.canvas, this.#info, this.#status);
    const first = stack[0]?.slice;
    if (first?.windowCenter !== undefined && first.windowWidth !== undefined) {
      this.#center = first.windowCenter;
      this.#width = first.windowWidth;
      this.#windowSet = true;
    }
    this.#bind();
    new ResizeObserver(() => this.#paint()).observe(this.element);
  }

  get index(): number {
    return this.#index;
  }
  get window(): { center: number; width: number } {
    return { center: this.#center, width: this.#width };
  }

  setWindow(center: number, width: number): void {
    this.#center = center;
    this.#width = Math.max(1, width);
    this.#windowSet = true;
    this.#renderImage();
  }

  reset(): void {
    this.#zoom = 1;
    this.#pan = [0, 0];
    this.#paint();
  }

  zoomBy(f: number): void {
    this.#zoom = Math.min(20, Math.max(0.1, this.#zoom * f));
    this.#paint();
  }

  async show(i: number): Promise<void> {
    const n = Math.max(0, Math.min(this.stack.length - 1, i));
    this.#index = n;
    this.#writeInfo();
    try {
      const img = await this.load(n);
      if (this.#index !== n) return; // the user scrolled on meanwhile
      this.#current = img;
      this.#dose = undefined;
      this.#status.textContent = '';
      if (!this.#windowSet && img.values) {
        const w = autoWindow(img.values);
        this.#center = w.center;
        this.#width = w.width;
        this.#windowSet = true;
      }
      this.#drawn = n;
      this.#renderImage();
      // The dose wash follows the image; it never delays it.
      if (this.doseOverlay && this.showDose) {
        const dose = await this.doseOverlay.at(n).catch(() => undefined);
        if (this.#index === n && this.showDose) {
          this.#dose = dose;
          this.#paint();
          this.element.dataset.dose = dose ? 'shown' : 'none';
        }
      }
    } catch (e) {
      if (this.#index === n) this.#status.textContent = e instanceof Error ? e.message : String(e);
    }
  }

  /** Re-draws overlays (ROI visibility or dose toggled). */
  async refresh(): Promise<void> {
    this.#dose = this.doseOverlay && this.showDose ? await this.doseOverlay.at(this.#index) : undefined;
    this.#paint();
    this.element.dataset.dose = this.#dose ? 'shown' : 'none';
  }

  #renderImage(): void {
    const item = this.stack[this.#index];
    const img = this.#current;
    if (!item || !img) return;
    const { rows, columns } = item.slice;
    if (this.#imageCanvas.width !== columns || this.#imageCanvas.height !== rows) {
      this.#imageCanvas.width = columns;
      this.#imageCanvas.height = rows;
    }
    const ctx = this.#imageCanvas.getContext('2d')!;
    const data = ctx.createImageData(columns, rows);
    if (img.values) renderWindow(img.values, this.#center, this.#width, item.slice.photometric === 'MONOCHROME1', data.data);
    else if (img.rgba) data.data.set(img.rgba.subarray(0, data.data.length));
    ctx.putImageData(data, 0, 0);
    this.#writeInfo();
    this.#paint();
    this.onChange();
  }

  /** Screen placement of the image: origin and pixel size on the canvas. */
  #layout(): { ox: number; oy: number; kx: number; ky: number } {
    const s = this.stack[this.#index].slice;
    const cw = this.canvas.width;
    const ch = this.canvas.height;
    const min = Math.min(s.spacing[0], s.spacing[1]) || 1;
    const sx = s.spacing[1] / min;
    const sy = s.spacing[0] / min;
    const fit = Math.min(cw / (s.columns * sx), ch / (s.rows * sy));
    const kx = fit * sx * this.#zoom;
    const ky = fit * sy * this.#zoom;
    return { ox: cw / 2 - (s.columns * kx) / 2 + this.#pan[0], oy: ch / 2 - (s.rows * ky) / 2 + this.#pan[1], kx, ky };
  }

  #paint(): void {
    const rect = this.element.getBoundingClientRect();
    const w = Math.max(1, Math.floor(rect.width));
    const hgt = Math.max(1, Math.floor(rect.height));
    if (this.canvas.width !== w || this.canvas.height !== hgt) {
      this.canvas.width = w;
      this.canvas.height = hgt;
    }
    const ctx = this.#ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, w, hgt);
    if (this.#drawn < 0 || this.#current === undefined) return;
    const item = this.stack[this.#drawn];
    const { ox, oy, kx, ky } = this.#layout();
    ctx.imageSmoothingEnabled = kx < 1;
    ctx.drawImage(this.#imageCanvas, ox, oy, item.slice.columns * kx, item.slice.rows * ky);
    if (this.#dose) this.#paintDose(item.slice, this.#dose, ox, oy, kx, ky);
    const list = this.contours.get(this.#drawn) ?? [];
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    for (const c of list) {
      if (this.hiddenRois.has(c.roi)) continue;
      ctx.strokeStyle = `rgb(${c.roi.color[0]}, ${c.roi.color[1]}, ${c.roi.color[2]})`;
      ctx.beginPath();
      for (let i = 0; i < c.pts.length; i += 2) {
        // +0.5: contour coordinates are pixel centres, the canvas counts from pixel edges.
        const x = ox + (c.pts[i] + 0.5) * kx;
        const y = oy + (c.pts[i + 1] + 0.5) * ky;
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
      if (c.closed) ctx.closePath();
      if (c.pts.length === 2) ctx.arc(ox + (c.pts[0] + 0.5) * kx, oy + (c.pts[1] + 0.5) * ky, 3, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  #paintDose(ct: Slice, dose: { geometry: Slice; rgba: Uint8ClampedArray }, ox: number, oy: number, kx: number, ky: number): void {
    const g = dose.geometry;
    if (g.position === undefined) return;
    if (this.#doseCanvas.width !== g.columns || this.#doseCanvas.height !== g.rows) {
      this.#doseCanvas.width = g.columns;
      this.#doseCanvas.height = g.rows;
    }
    const dctx = this.#doseCanvas.getContext('2d')!;
    const img = dctx.createImageData(g.columns, g.rows);
    img.data.set(dose.rgba);
    dctx.putImageData(img, 0, 0);
    const [c0, r0] = patientToPixel(ct, g.position as Vec3);
    const fx = g.spacing[1] / ct.spacing[1];
    const fy = g.spacing[0] / ct.spacing[0];
    // Nearest neighbour: each dose voxel shows as the block it is (no invented gradients).
    this.#ctx.imageSmoothingEnabled = false;
    this.#ctx.drawImage(this.#doseCanvas, ox + (c0 + 0.5 - fx / 2) * kx, oy + (r0 + 0.5 - fy / 2) * ky, g.columns * fx * kx, g.rows * fy * ky);
  }

  #writeInfo(): void {
    const n = this.stack.length;
    const s = this.stack[this.#index]?.slice;
    const pos = s?.position ? ` · z ${s.location.toFixed(1)} mm` : '';
    // For tests and scripts: which image is on screen (a UID and an index, never patient data).
    this.element.dataset.index = String(this.#index);
    this.element.dataset.sop = s?.sopInstanceUid ?? '';
    this.element.dataset.drawn = String(this.#drawn);
    this.#info.textContent = `Image ${this.#index + 1} / ${n}${pos} · W ${Math.round(this.#width)} L ${Math.round(this.#center)} · zoom ${this.#zoom.toFixed(2)}×`;
  }

  #bind(): void {
    const c = this.canvas;
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      if (e.ctrlKey) this.zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1);
      else void this.show(this.#index + (e.deltaY > 0 ? 1 : -1));
    }, { passive: false });
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener('pointerdown', (e) => {
      c.setPointerCapture(e.pointerId);
      c.focus();
      const mode: Tool = e.button === 2 || e.shiftKey ? 'pan' : e.button === 1 || e.ctrlKey ? 'zoom' : this.tool;
      let last: [number, number] = [e.clientX, e.clientY];
      const move = (ev: PointerEvent) => {
        const dx = ev.clientX - last[0];
        const dy = ev.clientY - last[1];
        last = [ev.clientX, ev.clientY];
        if (mode === 'pan') {
          this.#pan = [this.#pan[0] + dx, this.#pan[1] + dy];
          this.#paint();
        } else if (mode === 'zoom') this.zoomBy(Math.exp(-dy / 100));
        else {
          // Sensitivity grows with the width, so bone and brain windows both adjust smoothly.
          const k = Math.max(1, this.#width / 200);
          this.#width = Math.max(1, this.#width + dx * k);
          this.#center += dy * k;
          this.#renderImage();
        }
      };
      const up = () => {
        c.removeEventListener('pointermove', move);
        c.removeEventListener('pointerup', up);
        c.removeEventListener('pointercancel', up);
      };
      c.addEventListener('pointermove', move);
      c.addEventListener('pointerup', up);
      c.addEventListener('pointercancel', up);
    });
    c.addEventListener('keydown', (e) => {
      const step: Record<string, number> = { ArrowUp: -1, ArrowDown: 1, PageUp: -10, PageDown: 10 };
      if (e.key in step) void this.show(this.#index + step[e.key]);
      else if (e.key === 'Home') void this.show(0);
      else if (e.key === 'End') void this.show(this.stack.length - 1);
      else if (e.key === '+' || e.key === '=') this.zoomBy(1.2);
      else if (e.key === '-') this.zoomBy(1 / 1.2);
      else if (e.key === 'r' || e.key === 'R') this.reset();
      else return;
      e.preventDefault();
    });
  }
}
