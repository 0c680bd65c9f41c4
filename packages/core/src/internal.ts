/**
 * Unstable helpers shared by the stompede packages. Not part of the public API: anything here
 * may change in any release.
 * @packageDocumentation
 */
export { concatBytes, decodeRange, hasNul, EMPTY_BYTES, utf8EncodeShared } from './bytes.js';
export { escapesApply } from './escape.js';
export { resolveLimits } from './limits.js';
export { flattenHeaders } from './frame.js';
