// Statistics for the benchmark report: medians and ranges of repetitions, ratios to peers.
// Pure functions; values that are missing or not finite (a failed run) are left out, never zero.

/** The finite numbers of `xs`. */
export function finite(xs) {
  return xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Median of the finite values (mean of the middle two for an even count); undefined if none. */
export function median(xs) {
  const s = finite(xs).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** { median, min, max, n } of the finite values; undefined if none. */
export function summarize(xs) {
  const f = finite(xs);
  if (f.length === 0) return undefined;
  return { median: median(f), min: Math.min(...f), max: Math.max(...f), n: f.length };
}

/**
 * How many times better `ours` is than `peer`: ours / peer when higher is better, peer / ours
 * when lower is better (latency, memory). Undefined when either is missing or not positive.
 */
export function ratio(ours, peer, lowerIsBetter = false) {
  if (!(ours > 0) || !(peer > 0)) return undefined;
  return lowerIsBetter ? peer / ours : ours / peer;
}

/** A number for a table: thousands separators for big ones, 3 significant digits for small. */
export function formatNumber(x) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toLocaleString('en-US');
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(2);
}

/** "median (min–max)" of a summary, or "—". */
export function formatSummary(s, scale = 1) {
  if (s === undefined) return '—';
  const m = formatNumber(s.median / scale);
  return s.n > 1 && s.min !== s.max
    ? `${m} (${formatNumber(s.min / scale)}–${formatNumber(s.max / scale)})`
    : m;
}

/** "2.31×", or "—". */
export function formatRatio(r) {
  return r === undefined ? '—' : `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}
