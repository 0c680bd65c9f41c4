#!/usr/bin/env node
// The `stompede` command's entry point. It is committed, not compiled, so that `npm ci` links
// `node_modules/.bin/stompede` in a fresh clone before the first build (npm links a bin only if
// its file exists); the command itself is the compiled dist/main.js.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'stompede: the command is not built yet: run `npm run build` (or `npm start`) in the repository first\n',
  );
  process.exit(1);
}
await import(main.href);
