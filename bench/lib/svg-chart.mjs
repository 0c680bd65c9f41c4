// Dependency-free SVG charts for the benchmark report: grouped bar charts and line charts with
// axes, tick labels, a title, axis labels and a legend; linear or log (base 10) scales.
// Output is a standalone SVG document (no scripts, no external references).

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { top: 48, right: 170, bottom: 64, left: 84 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
const FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"';

/** Escape text for XML content and attribute values. */
export function escapeXml(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const n2 = (x) => (Math.round(x * 100) / 100).toString();

/** A tick label: 1.5k, 20M, 0.25. */
export function tickLabel(v) {
  const a = Math.abs(v);
  const trim = (x) => String(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

/** Nice linear ticks from 0 (or min) to at least max. */
function linearTicks(min, max) {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const lo = Math.floor(min / step) * step;
  const ticks = [];
  for (let v = lo; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [min, max] (both > 0). */
function logTicks(min, max) {
  const lo = Math.floor(Math.log10(min));
  let hi = Math.ceil(Math.log10(max));
  if (hi === lo) hi++;
  const ticks = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return ticks;
}

/** A scale: value → pixel, with its ticks. */
function scale(values, { log = false, from, to, zero = true, exact = false }) {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  if (v.length === 0) v.push(log ? 1 : 0, log ? 10 : 1);
  let min = Math.min(...v);
  const max = Math.max(...v);
  if (log && exact && max > min) {
    // Labelled ticks given by the caller: span the data, not whole decades.
    const a = Math.log10(min);
    const b = Math.log10(max);
    return { ticks: [], map: (x) => from + ((Math.log10(x) - a) / (b - a)) * (to - from) };
  }
  if (log) {
    const ticks = logTicks(min, max);
    const a = Math.log10(ticks[0]);
    const b = Math.log10(ticks[ticks.length - 1]);
    return { ticks, map: (x) => from + ((Math.log10(x) - a) / (b - a)) * (to - from) };
  }
  if (zero) min = Math.min(0, min);
  const ticks = linearTicks(min, max);
  const a = ticks[0];
  const b = ticks[ticks.length - 1];
  return { ticks, map: (x) => from + ((x - a) / (b - a)) * (to - from) };
}

function frame(title, body, { xLabel, yLabel, legend }) {
  const plotRight = WIDTH - MARGIN.right;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ${FONT} font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2 - MARGIN.right / 2 + MARGIN.left / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
  ];
  if (xLabel !== undefined)
    out.push(
      `<text x="${(MARGIN.left + plotRight) / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    );
  if (yLabel !== undefined)
    out.push(
      `<text x="18" y="${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2})">${escapeXml(yLabel)}</text>`,
    );
  legend.forEach((name, i) => {
    const y = MARGIN.top + 8 + i * 20;
    out.push(
      `<g class="legend-item"><rect x="${plotRight + 16}" y="${y - 9}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>` +
        `<text x="${plotRight + 34}" y="${y + 1}">${escapeXml(name)}</text></g>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function yAxis(ys, yLog) {
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const y = scale(ys, { log: yLog, from: bottom, to: top });
  const lines = [];
  for (const t of y.ticks) {
    const py = n2(y.map(t));
    lines.push(
      `<line x1="${MARGIN.left}" y1="${py}" x2="${WIDTH - MARGIN.right}" y2="${py}" stroke="#e0e0e0"/>`,
      `<text x="${MARGIN.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(tickLabel(t))}</text>`,
    );
  }
  lines.push(
    `<line x1="${MARGIN.left}" y1="${top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${bottom}" x2="${WIDTH - MARGIN.right}" y2="${bottom}" stroke="#333"/>`,
  );
  return { y, lines };
}

/** An x-axis category label, broken over lines at spaces when it is wider than `width`. */
function categoryLabel(text, x, y, width) {
  const perLine = Math.max(4, Math.floor(width / 6.5));
  const lines = [];
  for (const word of String(text).split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= perLine) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  const spans = lines
    .map((l, i) => `<tspan x="${x}" dy="${i === 0 ? 0 : 13}">${escapeXml(l)}</tspan>`)
    .join('');
  return `<text x="${x}" y="${y}" text-anchor="middle">${spans}</text>`;
}

/**
 * A grouped bar chart: one group per category, one bar per series. Missing values (undefined,
 * null, not finite) leave a gap marked "n/a".
 * @param {{title: string, categories: string[], series: {name: string, values: (number|undefined)[]}[],
 *   yLabel?: string, xLabel?: string, yLog?: boolean}} spec
 */
export function barChart({ title, categories, series, yLabel, xLabel, yLog = false }) {
  const all = series.flatMap((s) => s.values);
  const { y, lines } = yAxis(all, yLog);
  const bottom = HEIGHT - MARGIN.bottom;
  const plotW = WIDTH - MARGIN.right - MARGIN.left;
  const groupW = plotW / Math.max(1, categories.length);
  const barW = (groupW * 0.8) / Math.max(1, series.length);
  const body = [...lines];
  categories.forEach((c, ci) => {
    const gx = MARGIN.left + ci * groupW + groupW * 0.1;
    body.push(categoryLabel(c, n2(gx + groupW * 0.4), bottom + 18, groupW));
    series.forEach((s, si) => {
      const v = s.values[ci];
      const x = n2(gx + si * barW);
      if (typeof v !== 'number' || !Number.isFinite(v) || (yLog && v <= 0)) {
        body.push(
          `<text x="${n2(gx + (si + 0.5) * barW)}" y="${bottom - 4}" text-anchor="middle" font-size="9" fill="#888">n/a</text>`,
        );
        return;
      }
      const top = y.map(v);
      body.push(
        `<rect class="bar" data-series="${escapeXml(s.name)}" x="${x}" y="${n2(top)}" width="${n2(barW - 1)}" height="${n2(bottom - top)}" fill="${COLORS[si % COLORS.length]}"><title>${escapeXml(`${s.name}, ${c}: ${tickLabel(v)}`)}</title></rect>`,
      );
    });
  });
  return frame(title, body, { xLabel, yLabel, legend: series.map((s) => s.name) });
}

/**
 * A line chart: one polyline with point markers per series; x numeric (log or linear).
 * @param {{title: string, series: {name: string, points: [number, number][]}[], xLabel?: string,
 *   yLabel?: string, xLog?: boolean, yLog?: boolean, xTickLabels?: Record<number, string>}} spec
 */
export function lineChart({
  title,
  series,
  xLabel,
  yLabel,
  xLog = false,
  yLog = false,
  xTickLabels,
}) {
  const ok = (p) =>
    Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!xLog || p[0] > 0) && (!yLog || p[1] > 0);
  const pts = series.map((s) => s.points.filter(ok));
  const { y, lines } = yAxis(
    pts.flat().map((p) => p[1]),
    yLog,
  );
  const bottom = HEIGHT - MARGIN.bottom;
  const xs = pts.flat().map((p) => p[0]);
  const x = scale(xs, {
    log: xLog,
    from: MARGIN.left + 20,
    to: WIDTH - MARGIN.right - 20,
    zero: false,
    exact: xTickLabels !== undefined,
  });
  const body = [...lines];
  const xTicks = xTickLabels === undefined ? x.ticks : Object.keys(xTickLabels).map(Number);
  for (const t of xTicks) {
    const px = n2(x.map(t));
    body.push(
      `<line x1="${px}" y1="${bottom}" x2="${px}" y2="${bottom + 5}" stroke="#333"/>`,
      `<text x="${px}" y="${bottom + 18}" text-anchor="middle">${escapeXml(xTickLabels?.[t] ?? tickLabel(t))}</text>`,
    );
  }
  pts.forEach((p, si) => {
    const color = COLORS[si % COLORS.length];
    const name = escapeXml(series[si].name);
    if (p.length > 1)
      body.push(
        `<polyline class="series" data-series="${name}" fill="none" stroke="${color}" stroke-width="2" points="${p.map(([a, b]) => `${n2(x.map(a))},${n2(y.map(b))}`).join(' ')}"/>`,
      );
    for (const [a, b] of p)
      body.push(
        `<circle class="point" data-series="${name}" cx="${n2(x.map(a))}" cy="${n2(y.map(b))}" r="3.5" fill="${color}"><title>${escapeXml(`${series[si].name}: ${tickLabel(a)} → ${tickLabel(b)}`)}</title></circle>`,
      );
  });
  return frame(title, body, { xLabel, yLabel, legend: series.map((s) => s.name) });
}
