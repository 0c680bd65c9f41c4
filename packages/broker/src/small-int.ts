// Numbers read back as doubles (from a buffer or a typed array) and kept in objects.

/**
 * `x` as a small integer when it is one. A double stored in an object field makes V8 box that
 * field as a heap number (16 bytes) in every object of the same shape from then on, hot-path
 * ones included; an int31 is stored inline.
 */
export function small(x: number): number {
  return x >= 0 && x <= 0x3fffffff && Math.floor(x) === x ? x | 0 : x;
}
