// The codec under test: the built @stompede/core (packages/core/dist), or, to compare a candidate
// change without touching the workspace, another build given by STOMPEDE_CORE (a path to its
// index.js or a module specifier), e.g. STOMPEDE_CORE=/tmp/core-candidate/index.js.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

export const coreSource = process.env.STOMPEDE_CORE ?? '@stompede/core';

export function loadCore() {
  const specifier = isAbsolute(coreSource) ? pathToFileURL(coreSource).href : coreSource;
  return import(specifier);
}
