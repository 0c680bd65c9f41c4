// Aligned tables for people: a header, then one line per row, columns padded to their widest
// cell, numbers right-aligned. Scripts use --json instead.

/** One column: its heading, how a row shows in it, and whether it is a number. */
export interface TableColumn<T> {
  readonly head: string;
  readonly cell: (row: T) => string;
  readonly right?: boolean;
}

/** The table's text (ending with a newline); `empty` when there are no rows. */
export function table<T>(
  columns: readonly TableColumn<T>[],
  rows: readonly T[],
  empty: string,
): string {
  if (rows.length === 0) return `${empty}\n`;
  // Control characters in names from clients are shown escaped, so a row stays one line.
  const clean = (s: string): string =>
    // eslint-disable-next-line no-control-regex
    s.replace(/[\0-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const cells = rows.map((r) => columns.map((c) => clean(c.cell(r))));
  const widths = columns.map((c, i) =>
    Math.max(c.head.length, ...cells.map((row) => row[i]!.length)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (columns[i]!.right === true ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.head)), ...cells.map(line)].join('\n')}\n`;
}

/** A rate per second for a table: 0, 0.5, 12, 1234. */
export function rateText(n: number): string {
  if (n === 0) return '0';
  return n < 10 ? (Math.round(n * 10) / 10).toString() : Math.round(n).toString();
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Bytes in binary units. */
export function bytesText(n: number | null): string {
  if (n === null || n < 0) return '-';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? String(v) : v.toFixed(1)} ${UNITS[u]!}`;
}

/** A duration: 45s, 12m, 3h20m, 2d4h. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${String(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${String(m)}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${String(h)}h${String(m % 60).padStart(2, '0')}m`;
  return `${String(Math.floor(h / 24))}d${String(h % 24)}h`;
}

/** Heart-beat milliseconds: off, 10s, 500ms. */
export function beatText(ms: number): string {
  if (ms === 0) return 'off';
  return ms % 1000 === 0 ? `${String(ms / 1000)}s` : `${String(ms)}ms`;
}
