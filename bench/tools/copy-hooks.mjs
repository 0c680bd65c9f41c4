// Preloaded into a broker process by body-copies.mjs (`node --import`): counts the bytes that
// JavaScript-level copies move (TypedArray set/slice, Buffer.concat/copy/from, and the
// allocations of Buffer.alloc*), and, for each copy of at least BENCH_COPY_MIN bytes, where it
// was made (the first stack frame outside this file and node's internals). Over IPC,
// {cmd:'copies'} answers { bytes, calls, big: {site: {count, bytes}} } and {cmd:'copies-reset'}
// zeroes them. Native copies (the kernel's socket reads and writes) are not counted: those are
// the socket itself.
const min = Number(process.env.BENCH_COPY_MIN ?? 4096);
let bytes = 0;
let calls = 0;
let big = {};

function where() {
  const lines = (new Error().stack ?? '').split('\n').slice(3);
  for (const l of lines) {
    if (l.includes('copy-hooks.mjs') || l.includes('node:')) continue;
    const m = /\((.*)\)$/.exec(l.trim()) ?? /at (.*)$/.exec(l.trim());
    const at = m?.[1] ?? l.trim();
    return at.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules)\//, '$1/');
  }
  return '?';
}

function count(api, n) {
  calls++;
  bytes += n;
  if (n >= min) {
    const site = `${api} ${where()}`;
    const e = (big[site] ??= { count: 0, bytes: 0 });
    e.count++;
    e.bytes += n;
  }
}

const Typed = Object.getPrototypeOf(Uint8Array.prototype);
const set = Typed.set;
Typed.set = function (source, offset) {
  count('TypedArray.set', source?.length ?? 0);
  return set.call(this, source, offset);
};
const slice = Typed.slice;
Typed.slice = function (...args) {
  const out = slice.apply(this, args);
  count('TypedArray.slice', out.length);
  return out;
};
const concat = Buffer.concat;
Buffer.concat = function (list, total) {
  const out = concat.call(this, list, total);
  if (list.length > 1) count('Buffer.concat', out.length);
  return out;
};
const copy = Buffer.prototype.copy;
Buffer.prototype.copy = function (target, ...rest) {
  const n = copy.call(this, target, ...rest);
  count('Buffer.copy', n);
  return n;
};
const from = Buffer.from;
Buffer.from = function (value, ...rest) {
  const out = from.call(this, value, ...rest);
  // A view of an ArrayBuffer shares it; a typed array or array is copied.
  if (ArrayBuffer.isView(value) || Array.isArray(value)) count('Buffer.from', out.length);
  return out;
};

process.on('message', (m) => {
  if (m?.cmd === 'copies') process.send?.({ copies: { bytes, calls, big } });
  else if (m?.cmd === 'copies-reset') {
    bytes = 0;
    calls = 0;
    big = {};
    process.send?.({ copiesReset: true });
  }
});
