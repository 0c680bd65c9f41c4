// A time-series line chart on a canvas: fits its container's width (and the screen's pixel
// density), labels its axes, and reads out the values under the pointer. The legend is HTML
// (text nodes), so series names from clients are never drawn as markup.
import { h, replace } from './dom.js';

/** One line of the chart. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
}

const COLORS = ['#2b6cb0', '#dd6b20', '#2f855a', '#c53030', '#6b46c1', '#718096'] as const;

/** The colour of the i-th series. */
export function color(i: number): string {
  return COLORS[i % COLORS.length]!;
}

/** A chart bound to a container element. */
export class LineChart {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly legend: HTMLElement;
  private readonly readout: HTMLElement;
  private times: readonly number[] = [];
  private series: readonly Series[] = [];
  private hover: number | undefined;

  constructor(
    id: string,
    private readonly format: (v: number) => string,
    private readonly height = 220,
  ) {
    this.canvas = h('canvas', { id, 'aria-label': 'chart', role: 'img' });
    this.legend = h('div', { class: 'legend' });
    this.readout = h('div', { class: 'readout', 'aria-live': 'polite' });
    this.element = h('figure', { class: 'chart' }, this.canvas, this.legend, this.readout);
    this.canvas.addEventListener('mousemove', (e) => {
      this.hover = this.indexAt(e.offsetX);
      this.draw();
    });
    // The shell asks every chart to redraw when the window is resized.
    this.canvas.addEventListener('redraw', () => {
      this.draw();
    });
    this.canvas.addEventListener('mouseleave', () => {
      this.hover = undefined;
      this.draw();
    });
  }

  /** Show `series` over `times` (one value per time, oldest first). */
  update(times: readonly number[], series: readonly Series[]): void {
    this.times = times;
    this.series = series;
    replace(
      this.legend,
      ...series.map((s) =>
        h('span', { class: 'key' }, h('i', { data: { color: s.color } }), s.name),
      ),
    );
    for (const i of this.legend.querySelectorAll<HTMLElement>('i[data-color]'))
      i.style.background = i.dataset.color ?? '';
    this.draw();
  }

  private box(): { w: number; left: number; right: number; top: number; bottom: number } {
    const w = Math.max(200, this.element.clientWidth || 600);
    return { w, left: 56, right: w - 12, top: 10, bottom: this.height - 22 };
  }

  private indexAt(x: number): number | undefined {
    const n = this.times.length;
    if (n === 0) return undefined;
    const b = this.box();
    const t0 = this.times[0]!;
    const t1 = this.times[n - 1]!;
    const t = t0 + ((x - b.left) / (b.right - b.left)) * (t1 - t0);
    let best = 0;
    for (let i = 1; i < n; i++)
      if (Math.abs(this.times[i]! - t) < Math.abs(this.times[best]! - t)) best = i;
    return best;
  }

  /** Draw (again): after an update, a resize or a pointer move. */
  draw(): void {
    const b = this.box();
    const ratio = window.devicePixelRatio || 1;
    const c = this.canvas;
    if (c.width !== Math.round(b.w * ratio) || c.height !== Math.round(this.height * ratio)) {
      c.width = Math.round(b.w * ratio);
      c.height = Math.round(this.height * ratio);
      c.style.width = `${String(b.w)}px`;
      c.style.height = `${String(this.height)}px`;
    }
    const g = c.getContext('2d');
    if (g === null) return;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, b.w, this.height);
    g.font = '11px system-ui, sans-serif';
    g.strokeStyle = '#cbd5e0';
    g.fillStyle = '#4a5568';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(b.left, b.top);
    g.lineTo(b.left, b.bottom);
    g.lineTo(b.right, b.bottom);
    g.stroke();
    const n = this.times.length;
    if (n < 2) {
      g.fillText('collecting samples…', b.left + 10, (b.top + b.bottom) / 2);
      this.readout.textContent = '';
      return;
    }
    let max = 0;
    for (const s of this.series) for (const v of s.values) if (v !== null && v > max) max = v;
    max = niceCeiling(max);
    const t0 = this.times[0]!;
    const t1 = this.times[n - 1]!;
    const x = (t: number): number => b.left + ((t - t0) / (t1 - t0 || 1)) * (b.right - b.left);
    const y = (v: number): number => b.bottom - (v / max) * (b.bottom - b.top);
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      g.fillText(this.format(v), 4, y(v) + 4);
      if (i > 0) {
        g.strokeStyle = '#edf2f7';
        g.beginPath();
        g.moveTo(b.left + 1, y(v));
        g.lineTo(b.right, y(v));
        g.stroke();
      }
    }
    g.fillText(new Date(t0).toLocaleTimeString(), b.left, this.height - 6);
    const end = new Date(t1).toLocaleTimeString();
    g.fillText(end, b.right - g.measureText(end).width, this.height - 6);
    for (const s of this.series) {
      g.strokeStyle = s.color;
      g.lineWidth = 2;
      g.beginPath();
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null) {
          pen = false;
          return;
        }
        const px = x(this.times[i]!);
        if (pen) g.lineTo(px, y(v));
        else g.moveTo(px, y(v));
        pen = true;
      });
      g.stroke();
    }
    const at = this.hover;
    if (at === undefined) {
      this.readout.textContent = '';
      return;
    }
    g.strokeStyle = '#a0aec0';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(x(this.times[at]!), b.top);
    g.lineTo(x(this.times[at]!), b.bottom);
    g.stroke();
    this.readout.textContent = `${new Date(this.times[at]!).toLocaleTimeString()}  ${this.series
      .map((s) => `${s.name} ${s.values[at] === null ? '–' : this.format(s.values[at] ?? 0)}`)
      .join('  ')}`;
  }
}

/** 1, 2 or 5 times a power of ten, at least `v` (and at least 1). */
export function niceCeiling(v: number): number {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
