// Growable typed-array columns: the packed forms of the store and the engine (no object per
// message) double their columns as they fill.

/** A column of numbers. */
export type Column = Float64Array | Uint32Array | Uint8Array;

/** A copy of `column` with room for `length` values (the same type, the rest zero). */
export function grown<T extends Column>(column: T, length: number): T {
  const next = new (column.constructor as new (length: number) => T)(length);
  next.set(column);
  return next;
}
