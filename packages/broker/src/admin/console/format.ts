// How the console writes numbers, sizes, durations and message bodies.

/** A count: 1234 → "1,234"; 1.5e6 → "1.5M". */
export function count(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return Math.round(n).toLocaleString('en-US');
}

/** A rate per second: 0, 0.2, 12, 1,234, 1.2M. */
export function rate(n: number): string {
  if (n === 0) return '0';
  if (n < 10) return (Math.round(n * 10) / 10).toString();
  return count(n);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Bytes in binary units: 1536 → "1.5 KiB". */
export function bytes(n: number | null): string {
  if (n === null || !Number.isFinite(n) || n < 0) return '–';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? String(v) : v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[u]!}`;
}

/** A duration: "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${String(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${String(m)} min`;
  const hours = Math.floor(m / 60);
  if (hours < 24) return `${String(hours)} h ${String(m % 60)} min`;
  return `${String(Math.floor(hours / 24))} d ${String(hours % 24)} h`;
}

/** Heart-beat milliseconds: 0 → "off", 10000 → "10 s", 500 → "500 ms". */
export function beat(ms: number): string {
  if (ms === 0) return 'off';
  return ms % 1000 === 0 ? `${String(ms / 1000)} s` : `${String(ms)} ms`;
}

/** A clock time. */
export function clock(time: number): string {
  return new Date(time).toLocaleTimeString();
}

/** The bytes of a base64 string. */
export function fromBase64(b64: string): Uint8Array {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** How to show a body. */
export type BodyFormat = 'text' | 'json' | 'hex';

/** A body as text (UTF-8, bad bytes as U+FFFD), pretty JSON, or a hex dump. */
export function body(data: Uint8Array, format: BodyFormat): string {
  if (format === 'hex') return hexDump(data);
  const textValue = new TextDecoder('utf-8', { fatal: false }).decode(data);
  if (format === 'json') {
    try {
      return JSON.stringify(JSON.parse(textValue), null, 2);
    } catch (err) {
      return `(not JSON: ${(err as Error).message})\n\n${textValue}`;
    }
  }
  return textValue;
}

/** `00000000  7b 22 61 22 3a 31 7d                             |{"a":1}|` */
export function hexDump(data: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, off + 16);
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const b = row[i];
      hex += b === undefined ? '   ' : `${b.toString(16).padStart(2, '0')} `;
      if (i === 7) hex += ' ';
      if (b !== undefined) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  return lines.join('\n');
}
